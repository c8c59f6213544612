import { createHash } from 'node:crypto';
import { chmod, chown, lstat, mkdtemp, rm, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { type Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import Dockerode from 'dockerode';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestImages } from '../../docker/build-test-images.mjs';
import { EDGE_CAPABILITY } from '../../docker/edge-image.mjs';
import { EDGE_IMAGE_CONTENTS } from '../../docker/edge-image-contents.mjs';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { exportImageToFolder, INIT_LAYER_PATHS } from './docker.js';
import {
  compareTrees,
  type DiskEntry,
  readDumpTree,
  readImageArchive,
  readImageTree,
  type TreeEntry,
} from './image-tree.js';

const docker = new Dockerode();
const folders: string[] = [];
let edge: Map<string, TreeEntry>;

async function tempFolder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'image-tree-test-'));
  folders.push(dir);
  return dir;
}

/** The edge image as the engine itself merges its layers, read from disk without the init layer's paths. */
async function exportedEdge(): Promise<{ dir: string; tree: Map<string, DiskEntry> }> {
  const dir = await tempFolder();
  await exportImageToFolder(docker, TEST_IMAGES.edge, dir);
  const tree = await readDumpTree(dir);
  for (const path of INIT_LAYER_PATHS) tree.delete(path);
  return { dir, tree };
}

const sha256 = (content: string | Buffer) => createHash('sha256').update(content).digest('hex');

/** Every way `tree` departs from the hand-written description of the edge image. */
function departuresFromDescription(tree: ReadonlyMap<string, TreeEntry | DiskEntry>): string[] {
  const problems: string[] = [];
  const resolve = (path: string) => {
    let entry = tree.get(path);
    for (let hops = 0; entry?.type === 'hardlink' && hops < 10; hops++) entry = tree.get(entry.target ?? '');
    return entry;
  };
  const inodeOf = (path: string) => {
    const entry = tree.get(path);
    return entry && 'ino' in entry ? `ino ${entry.ino}` : `entry ${resolve(path)?.path}`;
  };
  for (const want of EDGE_IMAGE_CONTENTS.entries) {
    const got = resolve(want.path);
    if (!got) {
      problems.push(`${want.path}: missing`);
      continue;
    }
    const check = (field: string, expected: unknown, actual: unknown) => {
      if (expected !== undefined && expected !== actual) {
        problems.push(`${want.path}: ${field} should be ${String(expected)}, is ${String(actual)}`);
      }
    };
    check('type', want.type, got.type);
    check('mode', want.mode?.toString(8), got.mode.toString(8));
    check('uid', want.uid, got.uid);
    check('gid', want.gid, got.gid);
    if (want.content !== undefined) {
      check('size', Buffer.byteLength(want.content), got.size);
      check('sha256', sha256(want.content), got.sha256);
    }
    check('mtime', want.mtime, got.mtime);
    check('target', want.target, got.target);
    check('devmajor', want.devmajor, got.devmajor);
    check('devminor', want.devminor, got.devminor);
  }
  for (const path of EDGE_IMAGE_CONTENTS.absent) {
    if (tree.has(path)) problems.push(`${path}: should be gone`);
  }
  for (const path of tree.keys()) {
    if (posix.basename(path).startsWith('.wh.')) problems.push(`${path}: a whiteout shows as a file`);
  }
  for (const [dir, names] of Object.entries(EDGE_IMAGE_CONTENTS.children)) {
    const actual = [...tree.keys()]
      .filter((path) => (posix.dirname(path) === '.' ? '' : posix.dirname(path)) === dir)
      .map((path) => posix.basename(path))
      .sort();
    const expected = [...names].sort();
    if (actual.join('|') !== expected.join('|')) {
      problems.push(`${dir || '/'}: children should be [${expected}], are [${actual}]`);
    }
  }
  for (const group of EDGE_IMAGE_CONTENTS.hardlinkGroups) {
    for (const path of group) {
      const peers = [...tree.keys()].filter(
        (p) => tree.get(p)?.type !== 'dir' && inodeOf(p) === inodeOf(path),
      );
      if (peers.sort().join('|') !== [...group].sort().join('|')) {
        problems.push(`${path}: should share its inode with exactly [${group}], shares it with [${peers}]`);
      }
    }
  }
  return problems;
}

beforeAll(async () => {
  await buildTestImages();
  edge = await readImageTree(docker, TEST_IMAGES.edge);
}, 300_000);

afterAll(async () => {
  await Promise.all(folders.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('readImageTree on the edge image', () => {
  it('matches the hand-written description: entries, whiteouts, opaque and replaced directories, hardlinks', () => {
    expect(departuresFromDescription(edge)).toEqual([]);
  });

  it('reads the xattr a layer carries', () => {
    const capability = edge.get('caps/net-raw')?.xattrs?.['security.capability'];
    expect(Buffer.from(capability ?? '', 'latin1')).toEqual(EDGE_CAPABILITY);
  });

  it('leaves out the root and writes paths without ./ or /', () => {
    expect(edge.has('')).toBe(false);
    const odd = [...edge.keys()].filter((p) => p === '.' || /^\.?\/|\/$|\/\.?\//.test(p));
    expect(odd).toEqual([]);
  });

  it("agrees with the engine's own merge of the layers (docker export unpacked by GNU tar)", async () => {
    const { tree } = await exportedEdge();
    expect(compareTrees(edge, tree, { owners: true })).toEqual([]);
  });

  it('reads the OCI layout of newer engines: blobs, index.json with an attestation, gzip layers', async () => {
    const { Id } = await docker.getImage(TEST_IMAGES.edge).inspect();
    const oci = await toOciLayout((await docker.getImage(Id).get()) as Readable);
    expect(await readImageArchive(Readable.from(oci))).toEqual(edge);
  });
});

describe('readDumpTree', () => {
  it('describes the exported edge image as the description says (devices, fifo, 000 dirs, shared inodes)', async () => {
    const { tree } = await exportedEdge();
    expect(departuresFromDescription(tree)).toEqual([]);
  });
});

describe('compareTrees', () => {
  it('reports changed mode, owner, content, mtime, symlink target, a split hardlink, missing and extra entries', async () => {
    const { dir } = await exportedEdge();
    const at = (path: string) => join(dir, path);
    await chmod(at('files/exec.sh'), 0o644);
    await chown(at('owners/odd'), 1, 5678);
    const small = await lstat(at('files/small.txt'));
    await writeFile(at('files/small.txt'), 'HELLO, LAYERS\n');
    await utimes(at('files/small.txt'), small.atime, small.mtime);
    await utimes(at('files/empty'), 0, 0);
    await unlink(at('links/dangling'));
    await symlink('../elsewhere', at('links/dangling'));
    // Same bytes, mode and time, but its own inode: only the grouping differs.
    const linked = await lstat(at('links/same-dir-hardlink'));
    await unlink(at('links/same-dir-hardlink'));
    await writeFile(at('links/same-dir-hardlink'), 'linked content\n', { mode: 0o644 });
    await utimes(at('links/same-dir-hardlink'), linked.atime, linked.mtime);
    await rm(at('names/-rf'));
    await writeFile(at('names/extra'), '');

    const tree = await readDumpTree(dir);
    for (const path of INIT_LAYER_PATHS) tree.delete(path);
    const differences = compareTrees(edge, tree, { owners: true });
    expect(differences.sort()).toEqual(
      [
        'files/exec.sh: mode 0755, got 0644',
        'owners/odd: uid 1234, got 1',
        `files/small.txt: sha256 ${sha256('hello, layers\n')}, got ${sha256('HELLO, LAYERS\n')}`,
        'files/empty: mtime 2023-11-14T22:13:20.000Z, got 1970-01-01T00:00:00.000Z',
        'links/dangling: target "../no/such/file", got "../elsewhere"',
        'links/original.txt: one inode with [links/original.txt, links/same-dir-hardlink, links/sub/other-dir-hardlink], got one inode with [links/original.txt, links/sub/other-dir-hardlink]',
        'names/-rf: missing (expected file)',
        'names/extra: unexpected file',
      ].sort(),
    );
    expect(compareTrees(edge, tree, { owners: false }).some((d) => d.includes('uid'))).toBe(false);
  });

  it('finds nothing between a tree and itself', async () => {
    expect(compareTrees(edge, edge, { owners: true })).toEqual([]);
    const { tree } = await exportedEdge();
    expect(compareTrees(tree, tree, { owners: true })).toEqual([]);
  });
});

/**
 * Rewrites a legacy `docker save` stream as the OCI layout engine 25+ saves: blobs named by digest,
 * index.json listing an attestation manifest first, the first layer plain and the others gzip, no manifest.json.
 */
async function toOciLayout(save: Readable): Promise<Buffer> {
  const members = new Map<string, Buffer>();
  // tar-stream's types make extract() a Writable and pack() a streamx Readable; pipeline needs node types.
  const extract = tar.extract() as unknown as Duplex;
  await pipeline(save, extract, async (entries: AsyncIterable<Readable & { header: { name: string } }>) => {
    for await (const entry of entries) {
      const parts: Buffer[] = [];
      for await (const chunk of entry) parts.push(chunk as Buffer);
      members.set(entry.header.name.replace(/^\.\//, ''), Buffer.concat(parts));
    }
  });
  const [image] = JSON.parse(String(members.get('manifest.json'))) as { Config: string; Layers: string[] }[];
  if (!image) throw new Error('docker save wrote no manifest.json entry');
  const blobs = new Map<string, Buffer>();
  const descriptor = (mediaType: string, content: Buffer, extra = {}) => {
    const digest = `sha256:${sha256(content)}`;
    blobs.set(digest, content);
    return { mediaType, digest, size: content.length, ...extra };
  };
  const layers = image.Layers.map((name, i) => {
    const layer = members.get(name) as Buffer;
    return i === 0
      ? descriptor('application/vnd.oci.image.layer.v1.tar', layer)
      : descriptor('application/vnd.oci.image.layer.v1.tar+gzip', gzipSync(layer));
  });
  const manifest = (config: Buffer, manifestLayers: unknown[]) =>
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: descriptor('application/vnd.oci.image.config.v1+json', config),
        layers: manifestLayers,
      }),
    );
  const attestationLayer = descriptor('application/vnd.in-toto+json', Buffer.from('{"predicateType":"x"}'));
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      descriptor(
        'application/vnd.oci.image.manifest.v1+json',
        manifest(Buffer.from('{}'), [attestationLayer]),
        {
          platform: { os: 'unknown', architecture: 'unknown' },
        },
      ),
      descriptor(
        'application/vnd.oci.image.manifest.v1+json',
        manifest(members.get(image.Config) as Buffer, layers),
        {
          platform: { os: 'linux', architecture: 'amd64' },
        },
      ),
    ],
  };
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = pipeline(pack as unknown as Readable, async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) chunks.push(chunk);
  });
  for (const [digest, content] of blobs) pack.entry({ name: `blobs/${digest.replace(':', '/')}` }, content);
  pack.entry({ name: 'oci-layout' }, '{"imageLayoutVersion":"1.0.0"}');
  pack.entry({ name: 'index.json' }, JSON.stringify(index));
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}
