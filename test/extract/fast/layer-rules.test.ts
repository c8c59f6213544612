import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LayerTarEntry, writeLayerTar } from '../../../docker/tar-layer.mjs';
import { applyLayer } from '../../../src/extract/fast/apply-layer.js';
import { missingParentMeta } from '../../../src/extract/fast/layer-rules.js';
import { LayerTree } from '../../../src/extract/fast/layer-tree.js';
import type { ManifestEntry } from '../../../src/manifest.js';
import { readDumpTree } from '../../support/image-tree.js';

// The OCI image spec's changeset rules, on real layer tars written to disk and applied into real folders
// (GNU tar writes them), checked on disk with lstat and in the manifest entries. Every expected value is
// what the spec says; where Engine 20.10's overlay2 store shows something else, the test names it.

const T1 = 1_600_000_000;
const T2 = 1_700_000_000;

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-layer-rules-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function dir(name: string, meta: { mode?: number; uid?: number; gid?: number; mtime?: number } = {}) {
  return { name: `${name}/`, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: T2, ...meta } as const;
}
function file(name: string, content = `${name}\n`, meta: { mtime?: number } = {}): LayerTarEntry {
  return {
    name,
    type: 'file',
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtime: T2,
    content: Buffer.from(content),
    ...meta,
  };
}
function whiteout(name: string): LayerTarEntry {
  return file(name, '');
}

interface Applied {
  /** The manifest entries the tree gives, by path. */
  readonly entries: Map<string, ManifestEntry>;
  /** What lstat finds below the folder, by path. */
  readonly disk: Map<string, ManifestEntry>;
}

let count = 0;
/** Writes each layer to a tar file, applies them lowest first into a new folder, and reads both views back. */
async function apply(layers: readonly (readonly LayerTarEntry[])[]): Promise<Applied> {
  const id = count++;
  const out = join(work, `out-${id}`);
  await mkdir(out);
  const tree = new LayerTree();
  for (const [index, entries] of layers.entries()) {
    const tar = join(work, `layer-${id}-${index}.tar`);
    await writeLayerTar(entries, tar);
    await applyLayer(createReadStream(tar), out, tree, { index });
  }
  const entries = new Map(tree.entries().map((e) => [e.path, e]));
  const disk = new Map(
    [...(await readDumpTree(out))].map(([path, { ino: _i, nlink: _n, ...e }]) => [path, e]),
  );
  return { entries, disk };
}

/** Owner, mode and mtime of `path` in both views, which must agree. */
function metaOf(applied: Applied, path: string) {
  const pick = (e: ManifestEntry | undefined) =>
    e && { type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime };
  const fromTree = pick(applied.entries.get(path));
  expect(pick(applied.disk.get(path)), `${path} on disk`).toEqual(fromTree);
  return fromTree;
}

function paths(applied: Applied): string[] {
  const names = [...applied.entries.keys()].sort();
  expect([...applied.disk.keys()].sort()).toEqual(names);
  return names;
}

const lower = [dir('etc', { mode: 0o750, uid: 10, gid: 20, mtime: T1 }), file('etc/a'), file('etc/gone')];

describe('a folder a layer does not list is unchanged (Engine 20.10 makes it root:root 0755 at load time)', () => {
  it('keeps the lower owner, mode and mtime when the layer adds a file in it', async () => {
    const applied = await apply([lower, [file('etc/b')]]);
    expect(metaOf(applied, 'etc')).toEqual({ type: 'dir', mode: 0o750, uid: 10, gid: 20, mtime: T1 });
    expect(paths(applied)).toEqual(['etc', 'etc/a', 'etc/b', 'etc/gone']);
  });

  it('keeps them when the layer only removes something in it', async () => {
    const applied = await apply([lower, [whiteout('etc/.wh.gone')]]);
    expect(metaOf(applied, 'etc')).toEqual({ type: 'dir', mode: 0o750, uid: 10, gid: 20, mtime: T1 });
    expect(paths(applied)).toEqual(['etc', 'etc/a']);
  });

  it('keeps them two levels up, and for an opaque folder the layer does not list', async () => {
    const deep = [
      ...lower,
      dir('etc/ssl', { mode: 0o700, uid: 3, gid: 4, mtime: T1 + 5 }),
      file('etc/ssl/old'),
    ];
    const applied = await apply([deep, [whiteout('etc/ssl/.wh..wh..opq'), file('etc/ssl/new')]]);
    expect(metaOf(applied, 'etc')).toEqual({ type: 'dir', mode: 0o750, uid: 10, gid: 20, mtime: T1 });
    expect(metaOf(applied, 'etc/ssl')).toEqual({ type: 'dir', mode: 0o700, uid: 3, gid: 4, mtime: T1 + 5 });
    expect(paths(applied)).toEqual(['etc', 'etc/a', 'etc/gone', 'etc/ssl', 'etc/ssl/new']);
  });

  it('takes the listed metadata when the layer does list the folder', async () => {
    const applied = await apply([
      lower,
      [dir('etc', { mode: 0o711, uid: 7, gid: 8, mtime: T2 }), file('etc/b')],
    ]);
    expect(metaOf(applied, 'etc')).toEqual({ type: 'dir', mode: 0o711, uid: 7, gid: 8, mtime: T2 });
  });
});

describe('a parent no lower layer has', () => {
  it('gets missingParentMeta: root, 0755, the epoch', () => {
    expect(missingParentMeta()).toEqual({ mode: 0o755, uid: 0, gid: 0, mtime: 0, exactMtime: 0 });
  });

  it('is made so on disk and in the manifest, at every missing level, below a setgid folder too', async () => {
    const applied = await apply([
      [dir('srv', { mode: 0o2775, uid: 0, gid: 50, mtime: T1 })],
      [file('srv/a/b/c'), file('top/x')],
    ]);
    for (const path of ['srv/a', 'srv/a/b', 'top'])
      expect(metaOf(applied, path), path).toEqual({ type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 0 });
    expect(metaOf(applied, 'srv')).toEqual({ type: 'dir', mode: 0o2775, uid: 0, gid: 50, mtime: T1 });
  });

  it('replaces a lower symlink in the way (replacesLowerNonDir) with the same metadata', async () => {
    const applied = await apply([
      [
        { name: 'lib', type: 'symlink', linkname: 'usr/lib', mode: 0o777, mtime: T1 },
        dir('usr'),
        dir('usr/lib'),
      ],
      [file('lib/x')],
    ]);
    expect(metaOf(applied, 'lib')).toEqual({ type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 0 });
    expect(paths(applied)).toEqual(['lib', 'lib/x', 'usr', 'usr/lib']);
  });
});

describe('whiteouts and opaque folders as the spec says', () => {
  const lowerData = [
    dir('d', { mode: 0o700, uid: 5, gid: 6, mtime: T1 }),
    file('d/old'),
    dir('d/sub'),
    file('d/sub/deep'),
  ];

  it('an opaque marker at the root hides all lower content but keeps the layer own (20.10 ignores it)', async () => {
    const applied = await apply([
      [...lowerData, file('keep-me-not')],
      [whiteout('.wh..wh..opq'), file('fresh')],
    ]);
    expect(paths(applied)).toEqual(['fresh']);
  });

  it.each([
    ['before', [whiteout('.wh.d'), dir('d', { mode: 0o711, uid: 1, gid: 2, mtime: T2 }), file('d/new')]],
    ['after', [dir('d', { mode: 0o711, uid: 1, gid: 2, mtime: T2 }), file('d/new'), whiteout('.wh.d')]],
  ])(
    '.wh.d %s a new folder d in the same layer leaves no lower d/* visible (20.10 shows them)',
    async (_w, upper) => {
      const applied = await apply([lowerData, upper]);
      expect(paths(applied)).toEqual(['d', 'd/new']);
      expect(metaOf(applied, 'd')).toEqual({ type: 'dir', mode: 0o711, uid: 1, gid: 2, mtime: T2 });
    },
  );

  it('.wh.d with d/new but no header for d: a new folder with missingParentMeta, nothing of the old one', async () => {
    const applied = await apply([
      lowerData,
      [whiteout('.wh.d'), file('d/new'), dir('d/sub2'), file('d/sub2/x')],
    ]);
    expect(paths(applied)).toEqual(['d', 'd/new', 'd/sub2', 'd/sub2/x']);
    expect(metaOf(applied, 'd')).toEqual({ type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 0 });
    expect(metaOf(applied, 'd/sub2')).toEqual({ type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: T2 });
  });

  it('a folder the layer only whites out in, and then as a whole, is gone', async () => {
    const applied = await apply([lowerData, [whiteout('d/.wh.old'), whiteout('.wh.d')]]);
    expect(paths(applied)).toEqual([]);
  });

  it('a whiteout in a folder that does not exist makes nothing', async () => {
    const applied = await apply([lowerData, [whiteout('nowhere/.wh.x'), whiteout('nada/.wh..wh..opq')]]);
    expect(paths(applied)).toEqual(['d', 'd/old', 'd/sub', 'd/sub/deep']);
  });

  it('a whiteout hides lower layers only, never what its own layer writes', async () => {
    const applied = await apply([lowerData, [file('d/old', 'replaced\n'), whiteout('d/.wh.old')]]);
    expect(paths(applied)).toEqual(['d', 'd/old', 'd/sub', 'd/sub/deep']);
    expect(applied.entries.get('d/old')?.size).toBe('replaced\n'.length);
    expect(metaOf(applied, 'd')).toEqual({ type: 'dir', mode: 0o700, uid: 5, gid: 6, mtime: T1 });
  });

  it.each([
    ['trusted.overlay.opaque', 'y'],
    ['trusted.overlay.redirect', '/elsewhere'],
  ])('a %s xattr on a folder is an xattr, not a marker (20.10 acts on it)', async (xattr, value) => {
    const marked = {
      ...dir('d', { mode: 0o700, uid: 5, gid: 6, mtime: T2 }),
      pax: { [`SCHILY.xattr.${xattr}`]: value },
    };
    const applied = await apply([lowerData, [marked, file('d/new')]]);
    expect(paths(applied)).toEqual(['d', 'd/new', 'd/old', 'd/sub', 'd/sub/deep']);
  });
});

describe('nothing depends on the time of the run', () => {
  it('two applications of one image, a second apart, are identical on disk and in the manifest', async () => {
    const layers = [
      [...lower, dir('d', { mode: 0o700, mtime: T1 }), file('d/old')],
      [file('etc/b'), whiteout('etc/.wh.gone'), file('new/deep/x'), whiteout('.wh.d'), file('d/y')],
    ];
    const first = await apply(layers);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const second = await apply(layers);
    expect(JSON.stringify([...second.entries])).toBe(JSON.stringify([...first.entries]));
    expect([...second.disk]).toEqual([...first.disk]);
  });
});
