import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  checkSelected,
  type NameKind,
  normalisePaths,
  PathSelection,
  SelectionError,
} from '../../src/extract/path-selection.js';
import type { ManifestEntry } from '../../src/manifest.js';
import { resolveExtractOptions } from '../../src/options.js';

describe('--path values', () => {
  it('are normalised, sorted, and duplicates and nested paths folded', () => {
    expect(
      normalisePaths(['/usr//share/./doc/', '/etc', '/etc/ssl', '/usr/share/doc', '/usr-local']),
    ).toEqual(['/etc', '/usr-local', '/usr/share/doc']);
    expect(normalisePaths(['/etc/ssl', '/etc'])).toEqual(['/etc']);
  });

  it('select everything with / alone', () => {
    expect(normalisePaths(['/etc', '/'])).toEqual([]);
    expect(normalisePaths(['/./'])).toEqual([]);
    expect(() => normalisePaths(['/', '/a/../etc'])).toThrow(UsageError);
  });

  it.each([
    ['relative', 'etc', /Invalid --path "etc" \(option paths\): expected an absolute path/],
    ['empty', '', /Invalid --path ""/],
    ['with ..', '/usr/../etc', /Invalid --path "\/usr\/..\/etc" \(option paths\): ".." is not allowed/],
    ['escaping', '/..', /".." is not allowed/],
    ['with a NUL', '/etc\0x', /expected an absolute path/],
    ['not text', 3, /Invalid --path 3/],
  ])('refuse a %s path with one usage line', (_name, value, message) => {
    expect(() => normalisePaths([value])).toThrow(UsageError);
    expect(() => normalisePaths([value])).toThrow(message);
    expect(() => resolveExtractOptions({ paths: [value as string] })).toThrow(message);
  });

  it('hold nothing COPY would read as a pattern, a variable or a line, with the article method', () => {
    for (const path of ['/etc/*', '/a?', '/[ab]', '/a\\b', '/$HOME', '/a"b', '/a\nb', '/\udcff']) {
      expect(() => resolveExtractOptions({ paths: [path] })).toThrow(
        /holds a character a Dockerfile's COPY reads/,
      );
      expect(resolveExtractOptions({ paths: [path], method: 'fast' }).paths).toEqual([path]);
    }
    expect(resolveExtractOptions({ paths: ['/usr/share/my doc,2/é😀'] }).paths).toEqual([
      '/usr/share/my doc,2/é😀',
    ]);
  });

  it('are checked once in the library, and kept resolved', () => {
    expect(resolveExtractOptions({ paths: ['/etc/', '/etc'] }).paths).toEqual(['/etc']);
    expect(resolveExtractOptions({}).paths).toEqual([]);
    expect(() => resolveExtractOptions({ paths: '/etc' as unknown as string[] })).toThrow(UsageError);
  });
});

describe('a path selection', () => {
  const selection = new PathSelection(['/etc', '/usr/share/doc']);

  it('places names inside, above, or outside the selected subtrees', () => {
    expect(selection.place(['etc'])).toBe('inside');
    expect(selection.place(['etc', 'ssl', 'certs'])).toBe('inside');
    expect(selection.place(['usr'])).toBe('parent');
    expect(selection.place(['usr', 'share'])).toBe('parent');
    expect(selection.place(['usr', 'share', 'doc', 'x'])).toBe('inside');
    expect(selection.place(['usr', 'share', 'docs'])).toBe('outside');
    expect(selection.place(['usr', 'lib'])).toBe('outside');
    expect(selection.place(['etcetera'])).toBe('outside');
    expect(selection.roots().place(['etc', 'ssl'])).toBe('below');
    expect(selection.roots().place(['usr', 'share', 'doc'])).toBe('inside');
    expect(selection.roots().covers(['etc', 'ssl'])).toBe(false);
  });

  const entry = (
    path: string,
    type: ManifestEntry['type'],
    extra: Partial<ManifestEntry> = {},
  ): ManifestEntry => ({
    path,
    type,
    mode: type === 'dir' ? 0o755 : 0o644,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: 1,
    ...extra,
  });

  it('keeps the subtrees and their parents of a whole dump, hardlink groups rebuilt among the kept', () => {
    const whole = [
      entry('etc', 'dir'),
      entry('etc/b', 'hardlink', { target: 'bin/a' }),
      entry('etc/c', 'hardlink', { target: 'bin/a' }),
      entry('bin', 'dir'),
      entry('bin/a', 'file', { size: 3, sha256: 'ab' }),
      entry('usr', 'dir'),
      entry('usr/lib', 'dir'),
      entry('usr/share', 'dir', { uid: 7 }),
      entry('usr/share/doc', 'dir'),
      entry('usr/share/doc/x', 'file'),
    ];
    expect(selection.filter(whole).map((e) => [e.path, e.type, e.target])).toEqual([
      ['etc', 'dir', undefined],
      ['etc/b', 'file', undefined],
      ['etc/c', 'hardlink', 'etc/b'],
      ['usr', 'dir', undefined],
      ['usr/share', 'dir', undefined],
      ['usr/share/doc', 'dir', undefined],
      ['usr/share/doc/x', 'file', undefined],
    ]);
    expect(selection.filter(whole).find((e) => e.path === 'etc/b')).toMatchObject({ size: 3, sha256: 'ab' });
  });

  it('must name what the image has, with folders on the way', () => {
    const image = new Map<string, NameKind>([
      ['etc', { type: 'dir' }],
      ['usr', { type: 'dir' }],
      ['usr/share', { type: 'symlink', target: '../opt/share' }],
      ['bin', { type: 'symlink', target: 'usr/bin' }],
      ['data', { type: 'file' }],
    ]);
    const lookup = (parts: readonly string[]) => image.get(parts.join('/'));
    const check = (paths: string[]) => () => checkSelected(new PathSelection(paths), lookup);
    expect(check(['/etc', '/bin'])).not.toThrow();
    expect(check(['/etc/nothing'])).toThrow(SelectionError);
    expect(check(['/etc/nothing'])).toThrow(/^--path \/etc\/nothing: the image has no \/etc\/nothing;/);
    expect(check(['/opt/x'])).toThrow(/^--path \/opt\/x: the image has no \/opt;/);
    expect(check(['/usr/share/doc'])).toThrow(
      /^--path \/usr\/share\/doc: \/usr\/share is a symlink to \.\.\/opt\/share in the image; give the path without symlinks/,
    );
    expect(check(['/data/x'])).toThrow(/\/data is a file in the image, not a folder/);
  });
});
