import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LayerTarEntry, writeLayerTar } from '../../../docker/tar-layer.mjs';
import { applyLayer } from '../../../src/extract/fast/apply-layer.js';
import { createLayerFilter } from '../../../src/extract/fast/layer-filter.js';
import { LayerRules } from '../../../src/extract/fast/layer-rules.js';
import { LayerTree } from '../../../src/extract/fast/layer-tree.js';
import { checkSelectedInTree, PathSelection } from '../../../src/extract/path-selection.js';
import type { ManifestEntry } from '../../../src/manifest.js';
import { readDumpTree } from '../../support/image-tree.js';

// The fast method's layer rules with a --path selection, on real layer tars applied by GNU tar into real
// folders: what reaches GNU tar, hardlinks across the selection's edge, whiteouts above a selected path.

const T = 1_600_000_000;
const BIG = 16 * 1024 * 1024;
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-layer-selection-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const dir = (name: string): LayerTarEntry => ({
  name: `${name}/`,
  type: 'directory',
  mode: 0o755,
  uid: 0,
  gid: 0,
  mtime: T,
});
const file = (name: string, content: Buffer | string = `${name}\n`, uid = 0): LayerTarEntry => ({
  name,
  type: 'file',
  mode: 0o644,
  uid,
  gid: uid,
  mtime: T,
  content: Buffer.isBuffer(content) ? content : Buffer.from(content),
});
const link = (name: string, target: string, uid: number, mode: number): LayerTarEntry => ({
  name,
  type: 'link',
  linkname: target,
  mode,
  uid,
  gid: uid,
  mtime: T + 5,
});

let count = 0;
async function layerFile(entries: readonly LayerTarEntry[]): Promise<string> {
  const tar = join(work, `layer-${count++}.tar`);
  await writeLayerTar(entries, tar);
  return tar;
}

/** Applies the layers lowest first into a new folder; the tree's entries and the folder read back. */
async function apply(layers: readonly (readonly LayerTarEntry[])[], selection?: PathSelection) {
  const out = join(work, `out-${count++}`);
  await mkdir(out);
  const tree = new LayerTree();
  for (const [index, entries] of layers.entries()) {
    await applyLayer(createReadStream(await layerFile(entries)), out, tree, { index, selection });
  }
  checkSelectedInTree(selection, tree);
  const entries = tree.entries().sort((a, b) => (a.path < b.path ? -1 : 1));
  return { entries, disk: await readDumpTree(out) };
}

const strip = (entries: readonly ManifestEntry[]) =>
  entries.map(({ path, type, mode, uid, mtime }) => ({ path, type, mode, uid, mtime }));

describe('the layer rules with --path', () => {
  it('hand GNU tar the selected members only: a big file outside never reaches its input', async () => {
    const tar = await layerFile([
      dir('etc'),
      file('etc/passwd'),
      dir('opt'),
      file('opt/big', Buffer.alloc(BIG, 1)),
    ]);
    const bytesToGnuTar = async (selection?: PathSelection) => {
      const out = join(work, `filter-${count++}`);
      await mkdir(out);
      const rules = new LayerRules(new LayerTree(), out, 0, selection);
      let bytes = 0;
      const count_ = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          bytes += chunk.length;
          callback();
        },
      });
      await pipeline(createReadStream(tar), createLayerFilter(rules.member), count_);
      return bytes;
    };
    expect(await bytesToGnuTar(new PathSelection(['/etc']))).toBeLessThan(8 * 1024);
    // The control: the same layer whole carries the big file's body.
    expect(await bytesToGnuTar()).toBeGreaterThan(BIG);
  });

  it('refuse a selected hardlink whose file is outside, naming both and what to add', async () => {
    const layers = [[dir('bin'), file('bin/tool'), dir('etc'), link('etc/tool', 'bin/tool', 0, 0o644)]];
    await expect(apply(layers, new PathSelection(['/etc']))).rejects.toThrow(
      '--path: /etc/tool is a hardlink of /bin/tool, which is outside the selected paths; add --path /bin/tool',
    );
    // With the file selected too, the pair is whole.
    const both = await apply(layers, new PathSelection(['/bin', '/etc']));
    expect(both.entries.find((e) => e.path === 'etc/tool')).toMatchObject({
      type: 'hardlink',
      target: 'bin/tool',
    });
  });

  it('refuse such a hardlink only when the final image holds it: a later layer may replace or hide it', async () => {
    const lower = [dir('usr'), file('usr/y', 'same\n'), dir('etc'), link('etc/x', 'usr/y', 0, 0o644)];
    // A chmod of the hardlinked name: a file of its own in the layer above.
    const layers = [lower, [dir('etc'), { ...file('etc/x', 'same\n'), mode: 0o600 }]];
    const whole = await apply(layers);
    const part = await apply(layers, new PathSelection(['/etc']));
    expect(strip(part.entries)).toEqual(strip(new PathSelection(['/etc']).filter(whole.entries)));
    expect(part.entries.find((e) => e.path === 'etc/x')).toMatchObject({ type: 'file', mode: 0o600 });
    expect(part.disk.get('etc/x')).toMatchObject({ type: 'file', mode: 0o600 });
    // Whited out: the selected path is then missing, and said so (not the hardlink).
    const hidden = [lower, [dir('etc'), file('etc/.wh.x', '')]];
    await expect(apply(hidden, new PathSelection(['/etc/x']))).rejects.toThrow(
      '--path /etc/x: the image has no /etc/x; check the name',
    );
    // Replaced by a folder a later layer makes as the parent of what it writes.
    const renewed = await apply([lower, [dir('etc'), file('etc/x/f')]], new PathSelection(['/etc']));
    expect(renewed.entries.map((e) => e.path)).toEqual(['etc', 'etc/x', 'etc/x/f']);
  });

  it('give a selected file the metadata a hardlink outside sets on their inode, as in the whole image', async () => {
    const layers = [[dir('etc'), file('etc/a'), dir('opt'), link('opt/b', 'etc/a', 42, 0o600)]];
    const whole = await apply(layers);
    const part = await apply(layers, new PathSelection(['/etc']));
    expect(strip(part.entries)).toEqual(strip(new PathSelection(['/etc']).filter(whole.entries)));
    expect(part.entries.find((e) => e.path === 'etc/a')).toMatchObject({
      type: 'file',
      uid: 42,
      mode: 0o600,
    });
    expect(part.disk.get('etc/a')).toMatchObject({
      uid: process.getuid?.() === 0 ? 42 : part.disk.get('etc/a')?.uid,
      mode: 0o600,
    });
    expect(part.disk.has('opt')).toBe(false);
  });

  it('still apply a whiteout above a selected path: the path is then missing, and said so', async () => {
    const layers = [[dir('a'), dir('a/b'), file('a/b/c'), file('other')], [file('.wh.a', '')]];
    await expect(apply(layers, new PathSelection(['/a/b']))).rejects.toThrow(
      '--path /a/b: the image has no /a; check the name',
    );
  });

  it('still apply an opaque marker on a parent, and leave the rest of the image off the disk', async () => {
    const layers = [
      [dir('a'), dir('a/b'), file('a/b/old'), dir('a/x'), file('a/x/y'), file('top')],
      [dir('a'), file('a/.wh..wh..opq', ''), dir('a/b'), file('a/b/new')],
    ];
    const whole = await apply(layers);
    const part = await apply(layers, new PathSelection(['/a/b']));
    expect(part.entries.map((e) => e.path)).toEqual(['a', 'a/b', 'a/b/new']);
    expect(strip(part.entries)).toEqual(strip(new PathSelection(['/a/b']).filter(whole.entries)));
    expect([...part.disk.keys()].sort()).toEqual(['a', 'a/b', 'a/b/new']);
  });
});

describe('the layer rules reading the roots of a --path selection (the article method)', () => {
  const lower = [dir('etc'), dir('usr'), file('usr/y', 'same\n'), link('etc/x', 'usr/y', 0, 0o644)];
  const linksAfter = async (upper: readonly LayerTarEntry[][]) => {
    const roots = new PathSelection(['/etc', '/usr']).roots();
    await apply([lower, ...upper], roots);
    return roots.links;
  };

  it('note a hardlink across two selected paths only while the final image still holds it', async () => {
    // The control: nothing above, the link is the image's.
    expect(await linksAfter([])).toEqual([{ path: 'etc/x', target: 'usr/y' }]);
    // A chmod of a hardlinked name: overlay copies it up as a file of its own, same bytes, other mode.
    expect(await linksAfter([[dir('etc'), { ...file('etc/x', 'same\n'), mode: 0o600 }]])).toEqual([]);
    // The file it links to written again.
    expect(await linksAfter([[dir('usr'), file('usr/y', 'same\n')]])).toEqual([]);
    // Either name whited out, or hidden by an opaque folder, or a folder above it whited out and made again.
    expect(await linksAfter([[dir('usr'), file('usr/.wh.y', '')]])).toEqual([]);
    expect(await linksAfter([[dir('etc'), file('etc/.wh..wh..opq', '')]])).toEqual([]);
    expect(await linksAfter([[file('.wh.usr', ''), dir('usr'), file('usr/y', 'same\n')]])).toEqual([]);
    // A name beside it changes nothing, and a later layer that links them again is noted again.
    expect(await linksAfter([[dir('usr'), file('usr/z', 'other\n')]])).toEqual([
      { path: 'etc/x', target: 'usr/y' },
    ]);
    expect(
      await linksAfter([
        [dir('etc'), file('etc/.wh.x', '')],
        [dir('etc'), link('etc/x', 'usr/y', 0, 0o644)],
      ]),
    ).toEqual([{ path: 'etc/x', target: 'usr/y' }]);
  });
});

describe('the layer rules reading the roots of a --path selection, for a root that is a hardlink', () => {
  it('read its metadata alone when its file is outside the selection, as COPY copies it whole', async () => {
    const layers = [[dir('bin'), file('bin/tool'), dir('etc'), link('etc/tool', 'bin/tool', 42, 0o600)]];
    const roots = new PathSelection(['/etc/tool']).roots();
    const { entries } = await apply(layers, roots);
    expect(entries.find((e) => e.path === 'etc/tool')).toMatchObject({ type: 'file', uid: 42, mode: 0o600 });
    expect(roots.links).toEqual([]);
  });
});
