import { describe, expect, it } from 'vitest';
import { canonicaliseHardlinks, entryOf } from '../../src/extract/hardlink-groups.js';
import type { ManifestEntry } from '../../src/manifest.js';

const file = (path: string, layer: number): ManifestEntry =>
  entryOf({ path, type: 'file', mode: 0o640, uid: 1, gid: 2, size: 3, mtime: 4, sha256: 'ab', layer });
const link = (path: string, target: string, layer: number): ManifestEntry =>
  entryOf({ path, type: 'hardlink', mode: 0o640, uid: 1, gid: 2, size: 0, mtime: 4, target, layer });

describe('canonicaliseHardlinks', () => {
  it('gives a chain of links one file, the smallest name, each name keeping its own layer', () => {
    const entries = [file('z', 0), link('m', 'z', 1), link('b', 'm', 2), file('other', 0)];
    expect(JSON.stringify(canonicaliseHardlinks(entries))).toBe(
      JSON.stringify([link('z', 'b', 0), link('m', 'b', 1), file('b', 2), file('other', 0)]),
    );
  });

  it('leaves links that dangle or loop, and a list without links, as they are', () => {
    const entries = [link('a', 'missing', 0), link('b', 'c', 0), link('c', 'b', 0), file('d', 0)];
    expect(canonicaliseHardlinks(entries)).toEqual(entries);
    const plain = [file('x', 0), file('y', 1)];
    const out = canonicaliseHardlinks(plain);
    expect(out).toEqual(plain);
    expect(out).not.toBe(plain);
  });

  it('writes every entry with its keys in one order and no undefined field', () => {
    const dir = entryOf({ path: 'd', type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 1, layer: 0 });
    const symlink = entryOf({
      path: 's',
      type: 'symlink',
      mode: 0o777,
      uid: 0,
      gid: 0,
      size: 0,
      mtime: 1,
      target: 'd',
    });
    const xattrs = entryOf({
      path: 'x',
      type: 'file',
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: 0,
      mtime: 1,
      xattrs: {},
      layer: 2,
    });
    expect(Object.keys(file('f', 3))).toEqual([
      'path',
      'type',
      'mode',
      'uid',
      'gid',
      'size',
      'mtime',
      'sha256',
      'layer',
    ]);
    expect(Object.keys(dir)).toEqual(['path', 'type', 'mode', 'uid', 'gid', 'size', 'mtime', 'layer']);
    expect(Object.keys(symlink)).toEqual(['path', 'type', 'mode', 'uid', 'gid', 'size', 'mtime', 'target']);
    expect(Object.keys(xattrs)).toEqual(['path', 'type', 'mode', 'uid', 'gid', 'size', 'mtime', 'layer']);
  });
});
