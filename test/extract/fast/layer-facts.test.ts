import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LayerTarEntry, writeLayerTar } from '../../../docker/tar-layer.mjs';
import { applyLayer } from '../../../src/extract/fast/apply-layer.js';
import { efficiencyOf } from '../../../src/extract/fast/layer-facts.js';
import { historyLayers, type LayerPart, layerPart } from '../../../src/extract/fast/layer-history.js';
import { LayerTree } from '../../../src/extract/fast/layer-tree.js';
import type { ManifestEntry } from '../../../src/manifest.js';

// Layer facts on real layer tars applied into real folders (no engine): every expected number is worked out
// here from the members the test writes, never read back from the tool.

const T = 1_700_000_000;

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-layer-facts-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function dir(name: string): LayerTarEntry {
  return { name: `${name}/`, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: T };
}
function file(name: string, size: number, uid = 0): LayerTarEntry {
  return { name, type: 'file', mode: 0o644, uid, gid: 0, mtime: T, content: Buffer.alloc(size, 0x61) };
}
function link(name: string, target: string): LayerTarEntry {
  return { name, type: 'link', linkname: target, mode: 0o644, uid: 0, gid: 0, mtime: T };
}

let count = 0;
async function apply(
  layers: readonly (readonly LayerTarEntry[])[],
  history?: unknown,
): Promise<{ part: LayerPart; entries: Map<string, ManifestEntry> }> {
  const id = count++;
  const out = join(work, `out-${id}`);
  await mkdir(out);
  const tree = new LayerTree();
  const diffIds: string[] = [];
  for (const [index, entries] of layers.entries()) {
    const tar = join(work, `layer-${id}-${index}.tar`);
    diffIds.push(await writeLayerTar(entries, tar));
    await applyLayer(createReadStream(tar), out, tree, { index });
  }
  const part = layerPart(tree, diffIds, history, undefined);
  if (!part) throw new Error('no layer part without a selection');
  return { part, entries: new Map(tree.entries().map((e) => [e.path, e])) };
}

describe('layer facts', () => {
  it('counts added, changed and deleted files, bytes and wasted bytes per layer', async () => {
    const { part, entries } = await apply([
      [
        dir('etc'),
        file('etc/a', 1000),
        file('etc/b', 200),
        dir('gone'),
        file('gone/x', 300),
        file('gone/y', 40),
      ],
      // a changed, b deleted, gone/ deleted with its files, c added
      [dir('etc'), file('etc/a', 1500), file('etc/.wh.b', 0), file('.wh.gone', 0), file('etc/c', 7)],
    ]);
    const [first, second] = part.layers;
    expect(first).toMatchObject({
      index: 0,
      size: 1540,
      added: { files: 4, bytes: 1540 },
      changed: { files: 0, bytes: 0 },
      deleted: { files: 0, bytes: 0 },
      // a, b, gone/x and gone/y are all gone from the image
      wasted: 1000 + 200 + 300 + 40,
    });
    expect(second).toMatchObject({
      index: 1,
      size: 1507,
      added: { files: 1, bytes: 7 },
      changed: { files: 1, bytes: 1500 },
      deleted: { files: 3, bytes: 540 },
      wasted: 0,
    });
    expect(second?.removed).toEqual(
      expect.arrayContaining([
        { path: 'etc/b', files: 1, bytes: 200 },
        { path: 'gone', files: 2, bytes: 340 },
      ]),
    );
    expect(entries.get('etc/a')?.layer).toBe(1);
    expect(entries.get('etc/c')?.layer).toBe(1);
    expect(entries.get('etc')?.layer).toBe(1);
  });

  it('an opaque folder deletes every lower file below it, and wastes their bytes', async () => {
    const { part, entries } = await apply([
      [dir('d'), file('d/one', 100), dir('d/sub'), file('d/sub/two', 20), file('keep', 3)],
      [dir('d'), file('d/.wh..wh..opq', 0), file('d/new', 5)],
    ]);
    expect(part.layers[0]).toMatchObject({ size: 123, wasted: 120 });
    expect(part.layers[1]).toMatchObject({
      size: 5,
      added: { files: 1, bytes: 5 },
      deleted: { files: 2, bytes: 120 },
    });
    expect([...entries.keys()].sort()).toEqual(['d', 'd/new', 'keep']);
    expect(entries.get('keep')?.layer).toBe(0);
  });

  it('a chown of a large file is a changed file whose lower copy is wasted, and dive counts it twice', async () => {
    const big = 1_000_000;
    const { part } = await apply([[file('big', big)], [file('big', big, 1000)]]);
    expect(part.layers.map((l) => [l.size, l.wasted])).toEqual([
      [big, big],
      [big, 0],
    ]);
    expect(part.layers[1]?.changed).toEqual({ files: 1, bytes: big });
    // dive: one path seen twice at `big` each: minimum big, discovered 2 big, wasted 2 big.
    expect(part.efficiency).toEqual({
      score: 0.5,
      minimum_bytes: big,
      discovered_bytes: 2 * big,
      wasted_bytes: 2 * big,
    });
  });

  it('a hardlink member adds no bytes, and its file stays live through either name', async () => {
    const { part, entries } = await apply([[file('f', 64), link('g', 'f')], [file('.wh.f', 0)]]);
    expect(part.layers[0]).toMatchObject({ size: 64, added: { files: 2, bytes: 64 }, wasted: 0 });
    expect(part.layers[1]).toMatchObject({ deleted: { files: 1, bytes: 64 } });
    expect(entries.get('g')).toMatchObject({ type: 'file', size: 64, layer: 0 });
  });

  it('gives each name of a hardlink group the layer that wrote that name', async () => {
    const { part, entries } = await apply([[file('f', 8)], [link('g', 'f')]]);
    expect(entries.get('f')).toMatchObject({ type: 'file', layer: 0 });
    expect(entries.get('g')).toMatchObject({ type: 'hardlink', target: 'f', layer: 1 });
    expect(part.layers[1]).toMatchObject({ size: 0, added: { files: 1, bytes: 0 }, wasted: 0 });
    // Two names, one inode: its bytes count once, in the layer that wrote them.
    expect(part.layers[0]).toMatchObject({ size: 8, wasted: 0 });
  });

  it("keeps a file live through a later layer's hardlink to it when its own name is whited out", async () => {
    const { part, entries } = await apply([[file('f', 8)], [link('g', 'f')], [file('.wh.f', 0)]]);
    expect(entries.has('f')).toBe(false);
    expect(entries.get('g')).toMatchObject({ type: 'file', size: 8, layer: 1 });
    expect(part.layers.map((layer) => layer.wasted)).toEqual([0, 0, 0]);
  });

  it("reproduces dive's own efficiency case: nginx.conf twice, a deleted folder", async () => {
    const { part } = await apply([
      [dir('etc'), dir('etc/nginx'), file('etc/nginx/nginx.conf', 2000), file('etc/nginx/public', 3000)],
      [dir('etc'), dir('etc/nginx'), file('etc/nginx/nginx.conf', 5000), file('etc/athing', 10000)],
      [dir('etc'), file('etc/.wh.nginx', 0)],
    ]);
    // Leaves per path: nginx.conf 2000 + 5000 (min 2000), public 3000, athing 10000, and the whiteout of
    // etc/nginx sized as the files the folder held below it then (5000 + 3000).
    const minimum = 2000 + 3000 + 10000 + 8000;
    const discovered = 7000 + 3000 + 10000 + 8000;
    expect(part.efficiency).toEqual({
      score: minimum / discovered,
      minimum_bytes: minimum,
      discovered_bytes: discovered,
      wasted_bytes: 7000,
    });
  });

  it('pairs layers with the history, empty steps included', () => {
    const facts = [0, 1].map((size) => ({
      size,
      added: { files: size, bytes: size },
      changed: { files: 0, bytes: 0 },
      deleted: { files: 0, bytes: 0 },
      wasted: 0,
      removed: [],
    }));
    const layers = historyLayers(
      [
        { created_by: 'ADD rootfs.tar /' },
        { created_by: 'ENV A=1', empty_layer: true },
        { created_by: 'COPY x /x' },
        { created_by: 'CMD ["x"]', empty_layer: true },
      ],
      ['sha256:a', 'sha256:b'],
      facts,
    );
    expect(layers.map((l) => [l.index, l.diff_id, l.created_by, l.empty_layer ?? false, l.size])).toEqual([
      [0, 'sha256:a', 'ADD rootfs.tar /', false, 0],
      [undefined, undefined, 'ENV A=1', true, 0],
      [1, 'sha256:b', 'COPY x /x', false, 1],
      [undefined, undefined, 'CMD ["x"]', true, 0],
    ]);
    // No history (it is optional): the layers alone, with no created_by.
    expect(historyLayers(undefined, ['sha256:a', 'sha256:b'], facts).map((l) => l.created_by)).toEqual([
      undefined,
      undefined,
    ]);
  });
});

describe("dive's efficiency formula", () => {
  it('is the smallest size per path over the summed sizes per path', () => {
    expect(
      efficiencyOf([
        { cumulative: 300, minimum: 100, count: 2 },
        { cumulative: 50, minimum: 50, count: 1 },
        { cumulative: 0, minimum: 0, count: 3 },
      ]),
    ).toEqual({ score: 150 / 350, minimum_bytes: 150, discovered_bytes: 350, wasted_bytes: 300 });
  });

  it('takes a bare size as a path one layer sized', () => {
    expect(efficiencyOf([{ cumulative: 300, minimum: 100, count: 2 }, 50])).toEqual({
      score: 150 / 350,
      minimum_bytes: 150,
      discovered_bytes: 350,
      wasted_bytes: 300,
    });
  });

  it('is 1 when nothing has a size (a scratch image of empty files)', () => {
    expect(efficiencyOf([{ cumulative: 0, minimum: 0, count: 1 }]).score).toBe(1);
    expect(efficiencyOf([]).score).toBe(1);
  });

  it('counts a file removed by a whiteout at 0, so it lowers the score by its size', () => {
    // dive: the lower file at its size, the whiteout at 0 on the same path.
    expect(efficiencyOf([{ cumulative: 400, minimum: 0, count: 2 }]).score).toBe(0);
  });
});
