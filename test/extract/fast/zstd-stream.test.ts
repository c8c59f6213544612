import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { type LayerTarEntry, writeLayerTar } from '../../../docker/tar-layer.mjs';
import { applyLayer } from '../../../src/extract/fast/apply-layer.js';
import { LayerTree } from '../../../src/extract/fast/layer-tree.js';
import { readSave } from '../../../src/extract/fast/read-save.js';
import { readDumpTree } from '../../support/image-tree.js';

// A save as Docker 26's containerd store writes it: an OCI layout whose blobs are the stored ones, here a
// zstd layer made by the real zstd command under a gzip one, read on this Node (20, which has no zstd).

const T1 = 1_600_000_000;
const T2 = 1_700_000_000;
/** Random bytes: a zstd frame of them is as long as they are, so cutting it cuts data. */
const BIG = randomBytes(3 * 1024 * 1024);
let work: string;
/** The OCI layout, and the diff IDs of its two layers. */
let save: { file: string; diffIds: string[]; zstdBlob: string };

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-zstd-'));
  const lower: LayerTarEntry[] = [
    { name: 'etc/', type: 'directory', mode: 0o750, uid: 10, gid: 20, mtime: T1 },
    { name: 'etc/a', type: 'file', mode: 0o644, mtime: T1, content: Buffer.from('a\n') },
    { name: 'etc/big', type: 'file', mode: 0o600, mtime: T1, content: BIG },
  ];
  const upper: LayerTarEntry[] = [
    { name: 'etc/.wh.a', type: 'file', mode: 0o644, mtime: T2, content: Buffer.alloc(0) },
    { name: 'etc/b', type: 'file', mode: 0o640, uid: 1, gid: 2, mtime: T2, content: Buffer.from('b\n') },
  ];
  const lowerTar = join(work, 'lower.tar');
  const upperTar = join(work, 'upper.tar');
  const diffIds = [await writeLayerTar(lower, lowerTar), await writeLayerTar(upper, upperTar)];
  await execa('zstd', ['-q', '-19', '-o', `${lowerTar}.zst`, lowerTar]);
  const zstdBytes = await readFile(`${lowerTar}.zst`);
  const blobs = [zstdBytes, gzipSync(await readFile(upperTar))];
  const file = join(work, 'save.tar');
  await writeFile(file, await ociLayout(blobs));
  save = { file, diffIds, zstdBlob: sha256(zstdBytes) };
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function readInto(archive: string, out: string): Promise<LayerTree> {
  await mkdir(out);
  const tree = new LayerTree();
  await readSave(createReadStream(archive), {
    diffIds: save.diffIds,
    spillDir: `${out}-spill`,
    apply: (layer, index) => applyLayer(layer, out, tree, { index }).then(() => {}),
  });
  return tree;
}

describe('zstd layers on Node 20', () => {
  it('reads an OCI layout with a zstd layer under a gzip one, by the spec', async () => {
    expect(process.versions.node.split('.')[0]).toBe('20');
    const out = join(work, 'ok');
    const tree = await readInto(save.file, out);
    const entries = tree.entries().map(({ path, type, mode, uid, gid, mtime, size }) => ({
      path,
      type,
      mode,
      uid,
      gid,
      mtime,
      size,
    }));
    expect(entries.sort((a, b) => (a.path < b.path ? -1 : 1))).toEqual([
      { path: 'etc', type: 'dir', mode: 0o750, uid: 10, gid: 20, mtime: T1, size: 0 },
      { path: 'etc/b', type: 'file', mode: 0o640, uid: 1, gid: 2, mtime: T2, size: 2 },
      { path: 'etc/big', type: 'file', mode: 0o600, uid: 0, gid: 0, mtime: T1, size: 3 * 1024 * 1024 },
    ]);
    const disk = await readDumpTree(out);
    expect(disk.get('etc')).toMatchObject({ mode: 0o750, uid: 10, gid: 20, mtime: T1 });
    expect(disk.get('etc/big')?.sha256).toBe(sha256(BIG));
    expect([...disk.keys()].sort()).toEqual(['etc', 'etc/b', 'etc/big']);
  });

  it('fails on a cut zstd frame with zstd own words, never applying a short layer', async () => {
    const whole = await readFile(save.file);
    const cut = await ociLayoutWith(whole, save.zstdBlob, (blob) => blob.subarray(0, blob.length >> 1));
    await expect(readInto(cut, join(work, 'cut'))).rejects.toThrow(
      /^Reading layer 1 of the image failed: zstd could not decompress a layer: Read error \(\d+\): premature end; check the engine \(docker info\) and retry\.$/,
    );
  });

  it('says to install zstd when the command is missing', async () => {
    const path = process.env.PATH;
    // No zstd on PATH: the one fault the real machine shows only where zstd is not installed.
    const empty = join(work, 'empty-bin');
    await mkdir(empty);
    process.env.PATH = empty;
    onTestFinished(() => {
      process.env.PATH = path;
    });
    await expect(readInto(save.file, join(work, 'no-zstd'))).rejects.toThrow(
      /^The image has zstd-compressed layers and the zstd command is missing; install it \(Debian\/Ubuntu: apt-get install zstd\), or use --method article\.$/,
    );
  });
});

/** An OCI image layout holding `layers` (compressed blobs, lowest first), members in lexical order. */
async function ociLayout(layers: readonly Buffer[]): Promise<Buffer> {
  const blobs = new Map<string, Buffer>();
  const blob = (data: Buffer) => {
    const digest = `sha256:${sha256(data)}`;
    blobs.set(`blobs/sha256/${digest.slice(7)}`, data);
    return { digest, size: data.length };
  };
  const layerDescriptors = layers.map((data) => ({
    mediaType:
      data[0] === 0x1f
        ? 'application/vnd.oci.image.layer.v1.tar+gzip'
        : 'application/vnd.oci.image.layer.v1.tar+zstd',
    ...blob(data),
  }));
  const config = blob(Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [] } })));
  const manifest = blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: layerDescriptors,
      }),
    ),
  );
  const members = new Map(blobs);
  members.set(
    'index.json',
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{ ...manifest, platform: { os: 'linux', architecture: 'amd64' } }],
      }),
    ),
  );
  members.set('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  const file = join(work, `layout-${blobs.size}-${Date.now()}.tar`);
  await writeLayerTar(
    [...members]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, content]) => ({ name, type: 'file', mode: 0o644, mtime: T1, content })),
    file,
  );
  return readFile(file);
}

/** The same save with one blob's bytes changed (its name kept), written to a new file. */
async function ociLayoutWith(
  whole: Buffer,
  digest: string,
  change: (blob: Buffer) => Buffer,
): Promise<string> {
  const entries: LayerTarEntry[] = [];
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const content = Buffer.concat(chunks);
      const name = entry.header.name;
      entries.push({
        name,
        type: 'file',
        mode: 0o644,
        mtime: T1,
        content: name === `blobs/sha256/${digest}` ? change(content) : content,
      });
    }
  })();
  extract.end(whole);
  await done;
  const file = join(work, 'changed.tar');
  await writeLayerTar(entries, file);
  return file;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

describe('a save whose layer is not the image one', () => {
  it('refuses it by its diff ID, whatever its compression, before the next layer is applied', async () => {
    const out = join(work, 'mismatch');
    await mkdir(out);
    const tree = new LayerTree();
    const applied: number[] = [];
    await expect(
      readSave(createReadStream(save.file), {
        diffIds: [save.diffIds[1] as string, save.diffIds[0] as string],
        spillDir: `${out}-spill`,
        apply: (layer, index) => {
          applied.push(index);
          return applyLayer(layer, out, tree, { index }).then(() => {});
        },
      }),
    ).rejects.toThrow(
      `layer 1 of docker save is not the image's (its bytes hash to ${save.diffIds[0]}, the image names ${save.diffIds[1]}); check the engine (docker info) and retry`,
    );
    expect(applied).toEqual([0]);
  });
});
