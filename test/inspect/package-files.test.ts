import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPackageQueriesText } from '../../src/inspect/format-package-files-text.js';
import { parseDpkgList, parseMd5sums } from '../../src/inspect/package-files.js';
import { reportFor } from '../../src/inspect/report.js';
import { apkRoots } from '../support/apk-roots.js';

// Engine-free: Alpine-like roots whose apk database the test writes, with the files it names.
let work: string;
let a: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dc-package-files-'));
  ({ a } = apkRoots(work));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('package files from an apk database', () => {
  it('owns, lists and counts what the F: and R: lines name; the rest is unowned', async () => {
    const report = await reportFor(a, {
      owner: ['/bin/sh', '/etc/hostname', 'lib/'],
      files: ['musl', 'nosuch'],
      unowned: true,
    });
    const files = report.packageFiles;
    expect(files?.databases).toEqual(['lib/apk/db/installed']);
    expect(files?.owners).toEqual([
      { path: 'bin/sh', owners: ['busybox'], listedAs: [] },
      { path: 'etc/hostname', owners: [], listedAs: [] },
      { path: 'lib', owners: ['musl'], listedAs: [] },
    ]);
    expect(files?.files).toEqual([
      {
        package: 'musl',
        found: true,
        paths: ['lib', 'lib/ld-musl-x86_64.so.1', 'lib/libc.musl-x86_64.so.1'],
      },
      { package: 'nosuch', found: false, paths: [] },
    ]);
    expect(files?.unowned).toEqual(['etc/hostname', 'lib/apk/db/installed']);
    expect(files?.packages).toEqual([
      { package: 'busybox', list: 'lib/apk/db/installed', listed: 5, files: 3, bytes: 8 + 8 },
      { package: 'musl', list: 'lib/apk/db/installed', listed: 3, files: 2, bytes: 10 },
      { package: 'scanelf', list: 'lib/apk/db/installed', listed: 2, files: 1, bytes: 7 },
    ]);
  });

  it('refuses an empty --owner path or a --files name that cannot be a package, as usage errors', async () => {
    await expect(reportFor(a, { owner: ['/'] })).rejects.toThrow(/Invalid owner path "\/"/);
    await expect(reportFor(a, { files: ['a b'] })).rejects.toThrow(/Invalid package name "a b"/);
  });
});

describe('package files from a distroless status.d', () => {
  it('takes md5sums and, where the stanza has one, its Conffiles field (dpkg keeps conffiles out of md5sums)', async () => {
    const root = join(work, 'status-d');
    const files: Record<string, string> = {
      'var/lib/dpkg/status.d/foo': [
        'Package: foo',
        'Status: install ok installed',
        'Version: 1.0-1',
        'Architecture: amd64',
        'Conffiles:',
        ' /etc/foo.conf 0123456789abcdef0123456789abcdef',
        ' /etc/old.conf 0123456789abcdef0123456789abcdef obsolete',
        '',
      ].join('\n'),
      'var/lib/dpkg/status.d/foo.md5sums': 'fedcba9876543210fedcba9876543210  usr/bin/foo\n',
      'usr/bin/foo': 'foo',
      'etc/foo.conf': 'x=1\n',
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    const report = await reportFor(root, { files: ['foo'], unowned: true });
    expect(report.packageFiles?.files).toEqual([
      { package: 'foo', found: true, paths: ['usr/bin/foo', 'etc/foo.conf'] },
    ]);
    expect(report.packageFiles?.unowned).toEqual([
      'var/lib/dpkg/status.d/foo',
      'var/lib/dpkg/status.d/foo.md5sums',
    ]);
    expect(report.packageFiles?.packages).toEqual([
      { package: 'foo', list: 'var/lib/dpkg/status.d/foo.md5sums', listed: 3, files: 2, bytes: 7 },
    ]);
  });
});

describe('package query text', () => {
  it('never prints an image name raw: control characters and bytes that are not UTF-8 as escapes', () => {
    const text = formatPackageQueriesText({
      databases: ['lib/apk/db/installed'],
      packages: [],
      unownedCount: 1,
      unowned: ['etc/\u001b[2Jx\udcff'],
      owners: [{ path: 'bin/a\u0085', owners: ['evil\u0007'], listedAs: [] }],
      files: null,
    });
    // As every printer shows them (src/text/visible.ts): each word with a hidden character, bash-quoted.
    expect(text).toBe("$'evil\\a:' $'/bin/a\\u0085'\n$'/etc/\\e[2Jx\\xff'\n");
  });
});

describe('file list parsing', () => {
  it('reads dpkg lists and md5sums as manifest paths, a byte that is not UTF-8 as U+DC00+byte', () => {
    const list = Buffer.concat([
      Buffer.from('/.\n/usr\n/usr/share/caf'),
      Buffer.from([0xe9]),
      Buffer.from('\n'),
    ]);
    expect(parseDpkgList(list)).toEqual(['usr', 'usr/share/caf\udce9']);
    const sums = Buffer.from(
      '0123456789abcdef0123456789abcdef  usr/share/doc/a b/copyright\nnot a line\n' +
        'fedcba9876543210fedcba9876543210 *usr/bin/x\n',
    );
    expect(parseMd5sums(sums)).toEqual(['usr/share/doc/a b/copyright', 'usr/bin/x']);
  });
});
