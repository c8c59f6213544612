import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { execa } from 'execa';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../../docker/test-images.mjs';
import { applyLayer } from '../../../src/extract/fast/apply-layer.js';
import { LayerTree } from '../../../src/extract/fast/layer-tree.js';
import { readSave } from '../../../src/extract/fast/read-save.js';
import { compareTrees, readDumpTree, readImageTree } from '../../support/image-tree.js';
import { docker, testLabel } from '../../support/leftovers.js';

// Podman (containers/image) writes a docker-archive of its own shape: each layer once, at the top, as
// `<digest>.tar`, written first; then per layer a folder `<id>/` whose `layer.tar` is a symlink to it.
// These archives are written here in that shape and its variants, and read back with readSave; the Docker
// engine loads Podman's own shape, and that image read back by the spec's rules is the oracle.

const label = testLabel();
const TAG = `distroless-contents-test/podman-layout:${label.value}`;
let work: string;
/** edge's three layers, and the second again on top: a layer saved once and linked twice. */
let layers: Buffer[];
let diffIds: string[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-read-save-'));
  const edge = await savedLayers(TEST_IMAGES.edge);
  layers = [...edge, edge[1] as Buffer];
  const file = join(work, 'podman-save.tar');
  await writeFile(
    file,
    await podmanArchive(layers, TAG, { link: 'symlink', linksFirst: false, manifestNames: 'digests' }),
  );
  await execa('docker', ['load', '--quiet', '--input', file]);
  diffIds = (await docker.getImage(TAG).inspect()).RootFS.Layers ?? [];
});

afterAll(async () => {
  for (const image of await docker.listImages({ filters: JSON.stringify({ label: [label.arg] }) })) {
    await docker.getImage(image.Id).remove({ force: true });
  }
  await rm(work, { recursive: true, force: true });
});

interface PodmanLayout {
  readonly link: 'symlink' | 'hardlink';
  /** Every `<id>/` folder before the layers their links name, instead of after. */
  readonly linksFirst: boolean;
  /** What manifest.json lists: the `<digest>.tar` members (as Podman writes it), or the `<id>/layer.tar` links. */
  readonly manifestNames: 'digests' | 'links';
}

describe('the docker-archive layout Podman writes', () => {
  it.each([
    [
      'layers at the top, then symlinks to them, as podman save writes it',
      { link: 'symlink', linksFirst: false, manifestNames: 'digests' },
    ],
    [
      'symlinks that arrive before the layers they name',
      { link: 'symlink', linksFirst: true, manifestNames: 'digests' },
    ],
    [
      'hardlinks, with a manifest that lists the links',
      { link: 'hardlink', linksFirst: false, manifestNames: 'links' },
    ],
    [
      'hardlinks before their targets, with a manifest that lists the links',
      { link: 'hardlink', linksFirst: true, manifestNames: 'links' },
    ],
  ] as const)('gives the tree the Docker engine loads from %s', async (_what, layout: PodmanLayout) => {
    expect(diffIds).toEqual(layers.map((layer) => `sha256:${digest(layer)}`));
    const archive = await podmanArchive(layers, TAG, layout);
    const dir = await mkdtemp(join(work, 'out-'));
    const tree = new LayerTree();
    const applied: number[] = [];
    await readSave(Readable.from(archive), {
      diffIds,
      spillDir: `${dir}-spill`,
      apply: async (layer, index) => {
        applied.push(index);
        await applyLayer(layer, dir, tree, { index });
      },
    });
    expect(applied).toEqual([0, 1, 2, 3]);
    // By the spec's rules, which the fast method follows (edge has a folder only implied by a layer).
    const expected = await readImageTree(docker, TAG, 'spec');
    expect(compareTrees(expected, await readDumpTree(dir), { owners: true })).toEqual([]);
  });

  it('refuses a link to a layer the archive does not hold, naming both', async () => {
    const archive = await podmanArchive(layers, TAG, {
      link: 'symlink',
      linksFirst: false,
      manifestNames: 'links',
      drop: 2,
    });
    const missing = digest(layers[2] as Buffer);
    const dir = await mkdtemp(join(work, 'missing-'));
    const tree = new LayerTree();
    await expect(
      readSave(Readable.from(archive), {
        diffIds,
        spillDir: `${dir}-spill`,
        apply: (layer, index) => applyLayer(layer, dir, tree, { index }).then(() => {}),
      }),
    ).rejects.toThrow(
      new RegExp(
        `^docker save member [0-9a-f]{64}/layer\\.tar links to ${missing}\\.tar, which is no layer$`,
      ),
    );
  });
});

/** The layer tars of a `docker save` of `image` (Docker's legacy layout), lowest first. */
async function savedLayers(image: string): Promise<Buffer[]> {
  const { Id } = await docker.getImage(image).inspect();
  const members = new Map<string, Buffer>();
  const extract = tar.extract();
  const collected = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      members.set(entry.header.name, Buffer.concat(chunks));
    }
  })();
  ((await docker.getImage(Id).get()) as unknown as Readable).pipe(extract);
  await collected;
  const manifest = JSON.parse((members.get('manifest.json') as Buffer).toString('utf8')) as {
    Layers: string[];
  }[];
  return (manifest[0]?.Layers ?? []).map((name) => members.get(name) as Buffer);
}

/** A member to pack: its header, and its content unless it is a link. */
type Member = [Partial<tar.Header> & { name: string }, Buffer?];

/**
 * A docker-archive as containers/image's tarfile writer makes it: `<digest>.tar` per distinct layer, the
 * config, then per layer `<id>/layer.tar` (a link), `<id>/VERSION`, `<id>/json` naming its parent, with
 * chain IDs as the v1 IDs; manifest.json and repositories last. `drop` leaves one layer's `<digest>.tar` out.
 */
async function podmanArchive(
  layerTars: readonly Buffer[],
  tag: string,
  layout: PodmanLayout & { readonly drop?: number },
): Promise<Buffer> {
  const digests = layerTars.map(digest);
  const config = Buffer.from(
    JSON.stringify({
      architecture: (await execa('docker', ['version', '--format', '{{.Server.Arch}}'])).stdout.trim(),
      os: 'linux',
      config: { Labels: label.labels },
      rootfs: { type: 'layers', diff_ids: digests.map((hex) => `sha256:${hex}`) },
    }),
  );
  const blobs: Member[] = [];
  for (const [index, layer] of layerTars.entries()) {
    const hex = digests[index] as string;
    if (index === layout.drop || blobs.some(([header]) => header.name === `${hex}.tar`)) continue;
    blobs.push([{ name: `${hex}.tar`, mode: 0o644 }, layer]);
  }
  blobs.push([{ name: `${digest(config)}.json`, mode: 0o644 }, config]);
  const folders: Member[] = [];
  const ids: string[] = [];
  for (const hex of digests) {
    const previous = ids[ids.length - 1];
    const id = previous ? digest(Buffer.from(`sha256:${previous} sha256:${hex}`)) : hex;
    ids.push(id);
    folders.push(
      layout.link === 'symlink'
        ? [{ name: `${id}/layer.tar`, type: 'symlink', linkname: `../${hex}.tar` }]
        : [{ name: `${id}/layer.tar`, type: 'link', linkname: `${hex}.tar` }],
      [{ name: `${id}/VERSION`, mode: 0o644 }, Buffer.from('1.0')],
      [
        { name: `${id}/json`, mode: 0o644 },
        Buffer.from(JSON.stringify({ id, ...(previous && { parent: previous }) })),
      ],
    );
  }
  const manifest = [
    {
      Config: `${digest(config)}.json`,
      RepoTags: [tag],
      Layers:
        layout.manifestNames === 'digests'
          ? digests.map((hex) => `${hex}.tar`)
          : ids.map((id) => `${id}/layer.tar`),
    },
  ];
  const [repository, version] = tag.split(/:(?=[^:]*$)/);
  const members: Member[] = [
    ...(layout.linksFirst ? [...folders, ...blobs] : [...blobs, ...folders]),
    [{ name: 'manifest.json', mode: 0o644 }, Buffer.from(JSON.stringify(manifest))],
    [
      { name: 'repositories', mode: 0o644 },
      Buffer.from(JSON.stringify({ [repository as string]: { [version as string]: ids[ids.length - 1] } })),
    ],
  ];
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const [header, content] of members) {
    await new Promise<void>((resolve, reject) => {
      const callback = (error?: Error | null) => (error ? reject(error) : resolve());
      if (content === undefined) pack.entry(header, callback);
      else pack.entry(header, content, callback);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

function digest(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
