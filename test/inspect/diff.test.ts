import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffManifests } from '../../src/inspect/diff.js';
import { diffPackages } from '../../src/inspect/package-diff.js';
import type { InstalledPackage } from '../../src/inspect/packages.js';
import { type ManifestEntry, sortEntries } from '../../src/manifest.js';

const file = (path: string, content: string, extra: Partial<ManifestEntry> = {}): ManifestEntry => ({
  path,
  type: 'file',
  mode: 0o644,
  uid: 0,
  gid: 0,
  size: content.length,
  mtime: 1_700_000_000,
  sha256: `sha-of-${content}`,
  ...extra,
});
const dir = (path: string, extra: Partial<ManifestEntry> = {}): ManifestEntry => ({
  path,
  type: 'dir',
  mode: 0o755,
  uid: 0,
  gid: 0,
  size: 0,
  mtime: 1_700_000_000,
  ...extra,
});
const link = (path: string, target: string): ManifestEntry => ({
  ...dir(path),
  type: 'symlink',
  mode: 0o777,
  target,
});

describe('diffManifests', () => {
  const a = sortEntries([
    dir('etc'),
    file('etc/passwd', 'root'),
    file('etc/group', 'root'),
    dir('usr'),
    file('usr/keep', 'same'),
    link('usr/link', 'keep'),
    file('usr/gone', 'bye'),
    dir('var'),
    file('var/typechange', 'x'),
  ]);
  const b = sortEntries([
    dir('etc', { mtime: 1_800_000_000 }),
    file('etc/passwd', 'root+nonroot'),
    file('etc/group', 'root', { mode: 0o600, uid: 65532, gid: 65532 }),
    dir('usr'),
    file('usr/keep', 'same', { mtime: 1 }),
    link('usr/link', 'elsewhere'),
    file('usr/new', 'hello world'),
    dir('var'),
    dir('var/typechange'),
  ]);

  it('says what changed for each path: content, size, mode, owner, type, link target', () => {
    const diff = diffManifests(a, b);
    expect(diff.added.map((e) => e.path)).toEqual(['usr/new']);
    expect(diff.removed.map((e) => e.path)).toEqual(['usr/gone']);
    expect(diff.changed).toEqual([
      {
        path: 'etc/group',
        type: 'file',
        changes: [
          { field: 'mode', a: 0o644, b: 0o600 },
          { field: 'owner', a: '0:0', b: '65532:65532' },
        ],
      },
      {
        path: 'etc/passwd',
        type: 'file',
        changes: [
          { field: 'content', a: 'sha-of-root', b: 'sha-of-root+nonroot' },
          { field: 'size', a: 4, b: 12 },
        ],
      },
      { path: 'usr/link', type: 'symlink', changes: [{ field: 'target', a: 'keep', b: 'elsewhere' }] },
      { path: 'var/typechange', type: 'dir', changes: [{ field: 'type', a: 'file', b: 'dir' }] },
    ]);
  });

  it('reports modification times only with mtime', () => {
    expect(diffManifests(a, b).changed.map((c) => c.path)).not.toContain('etc');
    const withMtime = diffManifests(a, b, { mtime: true });
    expect(withMtime.changed.find((c) => c.path === 'etc')?.changes).toEqual([
      { field: 'mtime', a: 1_700_000_000, b: 1_800_000_000 },
    ]);
    expect(withMtime.changed.find((c) => c.path === 'usr/keep')?.changes).toEqual([
      { field: 'mtime', a: 1_700_000_000, b: 1 },
    ]);
  });

  it('leaves ignored paths out everywhere, folder sizes included', () => {
    const diff = diffManifests(a, b, {
      ignore: ['etc', 'usr/new', 'usr/gone', 'var/typechange', 'usr/link'],
    });
    expect(diff).toMatchObject({ added: [], removed: [], changed: [], folders: [] });
    expect(diff.total).toEqual({ a: 4, b: 4, delta: 0 });
  });

  it('sums byte changes per folder down to the depth', () => {
    const diff = diffManifests(a, b, { depth: 1 });
    expect(diff.folders).toEqual([
      { path: 'etc', a: 8, b: 16, delta: 8 },
      { path: 'usr', a: 7, b: 15, delta: 8 },
      { path: 'var', a: 1, b: 0, delta: -1 },
    ]);
    expect(diff.total).toEqual({ a: 16, b: 31, delta: 15 });
  });

  it('counts files it could not compare by content when a side has no hashes', () => {
    const unhashed = b.map(({ sha256: _sha, ...entry }) => entry);
    const diff = diffManifests(a, unhashed);
    expect(diff.contentUnknown).toBe(2);
    expect(diff.changed.find((c) => c.path === 'etc/passwd')?.changes.map((c) => c.field)).toEqual(['size']);
  });

  it('finds exactly the paths that were touched, whatever they are (property)', () => {
    const names = fc.uniqueArray(fc.stringMatching(/^[a-z]{1,6}(\/[a-z]{1,6}){0,2}$/), {
      minLength: 1,
      maxLength: 40,
    });
    fc.assert(
      fc.property(
        names,
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (paths, touch, drop) => {
          const before = sortEntries(paths.map((path) => file(path, path)));
          const touched = new Set(touch.map((n) => before[n % before.length]?.path as string));
          const dropped = new Set(drop.map((n) => before[n % before.length]?.path as string));
          const after = before
            .filter((entry) => !dropped.has(entry.path))
            .map((entry) => (touched.has(entry.path) ? { ...entry, mode: 0o600, sha256: 'changed' } : entry));
          after.push(file('zz-new/added', 'new'));
          const diff = diffManifests(before, sortEntries(after));
          expect(diff.removed.map((e) => e.path).sort()).toEqual([...dropped].sort());
          expect(diff.changed.map((c) => c.path).sort()).toEqual(
            [...touched].filter((p) => !dropped.has(p)).sort(),
          );
          expect(diff.added.map((e) => e.path)).toEqual(['zz-new/added']);
          expect(diffManifests(before, before)).toMatchObject({
            added: [],
            removed: [],
            changed: [],
            folders: [],
          });
        },
      ),
    );
  });
});

describe('diffPackages', () => {
  const pkg = (name: string, version: string, architecture = 'amd64'): InstalledPackage => ({
    name,
    version,
    architecture,
    source: 'dpkg-status.d',
  });
  it('finds added, removed and upgraded packages, multiarch kept apart', () => {
    const a = {
      databases: [],
      packages: [pkg('base-files', '12.4'), pkg('tzdata', '2024a', 'all'), pkg('old', '1')],
    };
    const b = {
      databases: [],
      packages: [
        pkg('base-files', '12.4'),
        pkg('tzdata', '2025b', 'all'),
        pkg('libc6', '2.36'),
        pkg('libc6', '2.36', 'i386'),
      ],
    };
    expect(diffPackages(a, b)).toEqual({
      added: [pkg('libc6', '2.36'), pkg('libc6', '2.36', 'i386')],
      removed: [pkg('old', '1')],
      changed: [{ name: 'tzdata', architecture: 'all', a: '2024a', b: '2025b' }],
    });
    expect(diffPackages(a, null)).toBeNull();
  });
});
