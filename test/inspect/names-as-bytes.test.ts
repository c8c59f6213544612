import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffTargets } from '../../src/inspect/diff-report.js';
import { withTarget } from '../../src/inspect/load-target.js';
import { reportFor } from '../../src/inspect/report.js';
import { scanFolder } from '../../src/inspect/scan-folder.js';
import type { Manifest, ManifestEntry } from '../../src/manifest.js';
import { b, OSC_TITLE, pythonListing, writeHostileDump, writeTree } from './hostile-names.js';

// Engine-free: every dump here is written by the test, with names from Buffers (bytes that are not UTF-8).
let work: string;
let hostile: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dc-names-bytes-'));
  hostile = join(work, 'hostile');
  writeHostileDump(hostile);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const paths = (list: readonly { path: string }[] | null | undefined) => list?.map((entry) => entry.path);

function manifest(entries: ManifestEntry[]): Manifest {
  return {
    schema: 1,
    tool: { name: 'distroless-contents', version: '0.0.0' },
    method: 'fast',
    image: {
      reference: 'hostile:1',
      id: `sha256:${'0'.repeat(64)}`,
      platform: 'linux/amd64',
      user: '',
      workdir: '',
      env: [],
      entrypoint: null,
      cmd: null,
    },
    entries,
  };
}

const file = (path: string, extra: Partial<ManifestEntry> = {}): ManifestEntry => ({
  path,
  type: 'file',
  mode: 0o644,
  uid: 0,
  gid: 0,
  size: 0,
  mtime: 1_700_000_000,
  ...extra,
});
const dir = (path: string): ManifestEntry => ({ ...file(path), type: 'dir', mode: 0o755 });

describe('a scanned dump names every entry by its bytes', () => {
  it("lists the same paths and link targets as Python's os.walk over bytes, decoded with surrogateescape", async () => {
    const { entries } = await scanFolder(hostile);
    const oracle = pythonListing(hostile).sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
    expect(entries.map((e) => e.path)).toEqual(oracle.map((e) => e.path));
    const targets = (list: readonly { path: string; target?: string | null }[]) =>
      list.filter((e) => typeof e.target === 'string').map((e) => [e.path, e.target]);
    expect(targets(entries.filter((e) => e.type === 'symlink'))).toEqual(targets(oracle));
    expect(entries.map((e) => e.path)).toContain('etc/passwd\udcff');
  });

  it('keeps f\\xff and f\\xfe apart: one setuid, the other plain, and a hardlink to the plain one', async () => {
    const { entries } = await scanFolder(hostile, { hash: true });
    const byPath = new Map(entries.map((e) => [e.path, e]));
    expect(byPath.get('f\udcfe')?.mode).toBe(0o4755);
    expect(byPath.get('f\udcff')?.mode).toBe(0o644);
    expect(byPath.get('g')).toMatchObject({ type: 'hardlink', target: 'f\udcff' });
    // Hashing reads each file by its own bytes: the two one-byte-apart names have their own contents.
    expect(byPath.get('f\udcff')?.sha256).not.toBe(byPath.get('f\udcfe')?.sha256);
  });
});

describe('readers of passwd, group, os-release and packages follow links by bytes', () => {
  it('follows etc/passwd -> passwd\\xff to its uid-0 user; reads status.d/hidden\\xff; finds only f\\xfe setuid', async () => {
    const report = await withTarget(hostile, {}, (target) => reportFor(target));
    expect(report.accounts?.passwdPath).toBe('etc/passwd\udcff');
    expect(report.accounts?.users.filter((u) => u.uid === 0).map((u) => u.name)).toEqual([
      'root',
      `evil${OSC_TITLE}`,
    ]);
    // A field's byte that is not UTF-8 stays that byte.
    expect(report.accounts?.users[1]?.home).toBe('/h\udcff');
    expect(report.packages?.packages.map((p) => p.name)).toEqual(['base-files', 'hidden\x1b[8m']);
    expect(paths(report.security.setuid)).toEqual(['f\udcfe']);
    expect(report.security.unknownUid).toEqual([]);
    expect(report.notes.filter((note) => /missing|not read/.test(note))).toEqual([]);
  });

  it('reads the one file a link names when a sibling differs from it in one byte', async () => {
    const root = join(work, 'siblings');
    writeTree(root, [
      { path: b('etc/passwd'), link: b('passwd', 0xfe) },
      { path: b('etc/passwd', 0xff), content: b('evil:x:0:0::/:/bin/sh\n') },
      { path: b('etc/passwd', 0xfe), content: b('nobody:x:65534:65534::/:/sbin/nologin\n') },
    ]);
    const report = await withTarget(root, {}, (target) => reportFor(target));
    expect(report.accounts?.passwdPath).toBe('etc/passwd\udcfe');
    expect(report.accounts?.users.map((u) => u.name)).toEqual(['nobody']);
  });

  it('does the same from a manifest whose names hold the escaped bytes, reading the dump folder beside it', async () => {
    const root = join(work, 'from-manifest');
    writeTree(root, [
      { path: b('etc/passwd', 0xff), content: b('root:x:0:0::/root:/bin/sh\nevil:x:0:0::/:/bin/sh\n') },
      { path: b('var/lib/dpkg/status.d/hidden', 0xff), content: b('Package: hidden\nVersion: 1\n') },
    ]);
    const entries = [
      dir('etc'),
      { ...file('etc/passwd'), type: 'symlink' as const, mode: 0o777, target: 'passwd\udcff' },
      file('etc/passwd\udcff', { size: 48 }),
      dir('var'),
      dir('var/lib'),
      dir('var/lib/dpkg'),
      dir('var/lib/dpkg/status.d'),
      file('var/lib/dpkg/status.d/hidden\udcff', { size: 28 }),
    ];
    writeFileSync(`${root}.json`, JSON.stringify(manifest(entries)));
    const report = await withTarget(`${root}.json`, {}, (target) => reportFor(target));
    expect(report.accounts?.users.map((u) => [u.name, u.uid])).toEqual([
      ['root', 0],
      ['evil', 0],
    ]);
    expect(report.packages?.packages.map((p) => p.name)).toEqual(['hidden']);
  });
});

describe('diff: two images one byte of one name apart are never identical', () => {
  it('on manifests (read back from disk): n\\xff removed, n\\xfe added', async () => {
    const a = join(work, 'a.json');
    const c = join(work, 'b.json');
    writeFileSync(a, JSON.stringify(manifest([file('n\udcff')])));
    writeFileSync(c, JSON.stringify(manifest([file('n\udcfe')])));
    const diff = await withTarget(a, {}, (left) => withTarget(c, {}, (right) => diffTargets(left, right)));
    expect(diff.identical).toBe(false);
    expect(paths(diff.removed)).toEqual(['n\udcff']);
    expect(paths(diff.added)).toEqual(['n\udcfe']);
  });

  it('on dump folders written with those bytes', async () => {
    const left = join(work, 'left');
    const right = join(work, 'right');
    writeTree(left, [{ path: b('n', 0xff), content: b('same') }]);
    writeTree(right, [{ path: b('n', 0xfe), content: b('same') }]);
    const diff = await withTarget(left, { hash: true }, (x) =>
      withTarget(right, { hash: true }, (y) => diffTargets(x, y)),
    );
    expect(diff.identical).toBe(false);
    expect(paths(diff.removed)).toEqual(['n\udcff']);
    expect(paths(diff.added)).toEqual(['n\udcfe']);
  });

  it('and a dump folder diffed with itself is identical (the names are stable)', async () => {
    const diff = await withTarget(hostile, { hash: true }, (x) =>
      withTarget(hostile, { hash: true }, (y) => diffTargets(x, y)),
    );
    expect(diff.identical).toBe(true);
  });
});
