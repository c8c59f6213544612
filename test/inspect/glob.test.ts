import { describe, expect, it } from 'vitest';
import { ignoreMatcher } from '../../src/inspect/glob.js';

describe('ignoreMatcher', () => {
  it.each([
    ['*.md5sums', 'var/lib/dpkg/status.d/tzdata.md5sums', true],
    ['*.md5sums', 'var/lib/dpkg/status.d/tzdata', false],
    ['usr/share/doc', 'usr/share/doc', true],
    ['usr/share/doc', 'usr/share/doc/libc6/copyright', true],
    ['usr/share/doc', 'usr/share/docs', false],
    ['/usr/share/doc/', 'usr/share/doc/x', true],
    ['usr/*/doc', 'usr/share/doc/x', true],
    ['usr/*/doc', 'usr/a/b/doc', false],
    ['usr/**/copyright', 'usr/share/doc/libc6/copyright', true],
    ['usr/**/copyright', 'usr/copyright', true],
    ['**/copyright', 'copyright', true],
    ['lib/x86_64-linux-gnu/lib?.so.6', 'lib/x86_64-linux-gnu/libc.so.6', true],
    ['lib/x86_64-linux-gnu/lib?.so.6', 'lib/x86_64-linux-gnu/libcc.so.6', false],
    ['zoneinfo/[A-C]*', 'usr/share/zoneinfo/Asia', false],
    ['usr/share/zoneinfo/[A-C]*', 'usr/share/zoneinfo/Asia/Tokyo', true],
    ['usr/share/zoneinfo/[!A-C]*', 'usr/share/zoneinfo/Asia', false],
    ['usr/share/zoneinfo/[!A-C]*', 'usr/share/zoneinfo/Europe', true],
    ['a.b', 'axb', false],
    ['(x)+', '(x)+', true],
    ['tmp', 'var/tmp', true],
  ])('%s on %s: %s', (pattern, path, expected) => {
    expect(ignoreMatcher([pattern])(path)).toBe(expected);
  });

  it('ignores nothing without patterns and combines several', () => {
    expect(ignoreMatcher([])('etc/passwd')).toBe(false);
    const ignored = ignoreMatcher(['etc/passwd', '*.gz']);
    expect(['etc/passwd', 'a/b.gz', 'etc/group'].map(ignored)).toEqual([true, true, false]);
  });
});
