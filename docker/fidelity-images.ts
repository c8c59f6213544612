import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { type RawEntry, writeRawTar } from '../test/security/raw-tar.js';
import { writeDockerArchive } from './docker-archive.mjs';
import { RECIPE_LABEL } from './test-images.mjs';

// Small hand-written images, one per point where engines and the image spec part ways (implied folders,
// unlisted opaque folders, xattrs, names that are not UTF-8, whiteouts, a root opaque marker). Written byte
// for byte (the raw tar writer puts any bytes in names and PAX values) and `docker load`ed into the main
// engine; what the final filesystem must be is what the oracle (skopeo + umoci) says, not written here.

/** 2001-02-03T04:05:06Z, an old fixed mtime a folder must keep when a later layer changes it without listing it. */
export const FIDELITY_OLD_MTIME = Date.UTC(2001, 1, 3, 4, 5, 6) / 1000;
const MTIME = 1700000000;
// Node's names for the architectures the test machines have, in the image config's terms.
const ARCHITECTURE =
  ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch;

/** The owner and mode of the folders that later layers change without listing them. */
export const IMPLIED_OWNER = { uid: 1234, gid: 5678, mode: 0o750 } as const;

const dir = (name: string | Buffer, extra: Partial<RawEntry> = {}): RawEntry => ({
  name,
  type: 'dir',
  mode: 0o755,
  mtime: MTIME,
  ...extra,
});
const file = (name: string | Buffer, content: string, extra: Partial<RawEntry> = {}): RawEntry => ({
  name,
  type: 'file',
  mode: 0o644,
  mtime: MTIME,
  content: Buffer.from(content),
  ...extra,
});
const marker = (name: string): RawEntry => file(name, '');

/** Layers, lowest first, of each fidelity image. */
export const FIDELITY_LAYERS = {
  /** Layer 2 adds etc/x and deletes var/y without listing etc or var (1234:5678 0750, an old mtime). */
  implied: [
    [
      dir('etc', { ...IMPLIED_OWNER, mtime: FIDELITY_OLD_MTIME }),
      file('etc/keep', 'from layer 1\n'),
      dir('var', { ...IMPLIED_OWNER, mtime: FIDELITY_OLD_MTIME }),
      file('var/y', 'deleted by layer 2\n'),
      file('var/z', 'kept\n'),
    ],
    [file('etc/x', 'added by layer 2\n'), marker('var/.wh.y')],
  ],
  /** Layer 2 makes `o` opaque (and adds o/new) without listing `o`. */
  opaque: [
    [
      dir('o', { ...IMPLIED_OWNER, mtime: FIDELITY_OLD_MTIME }),
      file('o/old', 'hidden by the opaque marker\n'),
      dir('o/sub'),
      file('o/sub/older', 'hidden too\n'),
    ],
    [marker('o/.wh..wh..opq'), file('o/new', 'new in layer 2\n')],
  ],
  /** xattrs in the user, security and trusted namespaces, one value not UTF-8, on a file and a folder. */
  xattrs: [
    [
      dir('x', {
        paxHeaders: [{ path: 'x', 'SCHILY.xattr.user.dir-note': 'on a folder' }],
      }),
      file('x/file', 'with attributes\n', {
        paxHeaders: [
          {
            path: 'x/file',
            'SCHILY.xattr.user.plain': 'plain text',
            'SCHILY.xattr.user.binary': Buffer.from([0xff, 0xfe, 0x80, 0x41]),
            'SCHILY.xattr.security.fidelity': 'security namespace',
            'SCHILY.xattr.trusted.fidelity': 'trusted namespace',
          },
        ],
      }),
    ],
  ],
  /** Two files whose names differ only in one byte that is not UTF-8, and a symlink to one of them. */
  names: [
    [
      dir('names'),
      file(Buffer.from('names/n\xff', 'latin1'), 'the name ends in byte 0xff\n'),
      file(Buffer.from('names/n\xfe', 'latin1'), 'the name ends in byte 0xfe\n'),
      {
        name: 'names/link',
        type: 'symlink',
        mode: 0o777,
        mtime: MTIME,
        linkname: Buffer.from('n\xff', 'latin1'),
      },
    ],
  ],
  /** `.wh.d` then a new folder `d` in the same layer: the new `d` holds only what this layer puts there. */
  'whiteout-redo': [
    [dir('d'), file('d/old', 'from layer 1\n'), dir('d/sub'), file('d/sub/older', 'from layer 1\n')],
    [marker('.wh.d'), dir('d', { mode: 0o700, uid: 7, gid: 7 }), file('d/new', 'from layer 2\n')],
  ],
  /** An opaque marker at the root of layer 2 hides every entry of layer 1. */
  'root-opaque': [
    [dir('low'), file('low/file', 'hidden by the root marker\n'), file('top-low', 'hidden too\n')],
    [marker('.wh..wh..opq'), dir('high'), file('high/file', 'from layer 2\n')],
  ],
} as const satisfies Record<string, readonly (readonly RawEntry[])[]>;

export type FidelityImageName = keyof typeof FIDELITY_LAYERS;

export const FIDELITY_IMAGE_NAMES = Object.keys(FIDELITY_LAYERS) as FidelityImageName[];

export function fidelityTag(name: FidelityImageName): string {
  return `distroless-contents-test/fidelity-${name}:latest`;
}

/**
 * Writes and `docker load`s every fidelity image into the main engine (a second or two: they are tiny). The
 * bytes never change between runs, so neither do the image IDs: loading again replaces nothing.
 */
export async function buildFidelityImages(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'dc-fidelity-images-'));
  try {
    for (const name of FIDELITY_IMAGE_NAMES) {
      const layers = [];
      for (const [index, entries] of FIDELITY_LAYERS[name].entries()) {
        const layerFile = join(work, `${name}-${index + 1}.tar`);
        layers.push({ file: layerFile, diffId: await writeRawTar(entries, layerFile) });
      }
      const created = new Date(MTIME * 1000).toISOString();
      const archive = join(work, `${name}.tar`);
      await writeDockerArchive({
        file: archive,
        tag: fidelityTag(name),
        layers,
        config: {
          architecture: ARCHITECTURE,
          os: 'linux',
          created,
          config: { Labels: { [RECIPE_LABEL]: 'fidelity-images' } },
          history: layers.map(() => ({ created, created_by: `fidelity image ${name}` })),
        },
      });
      await execa('docker', ['load', '--quiet', '--input', archive], {
        env: { DOCKER_HOST: 'unix:///var/run/docker.sock', DOCKER_CONTEXT: '' },
      });
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
