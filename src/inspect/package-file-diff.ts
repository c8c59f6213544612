import type { ManifestEntry } from '../manifest.js';
import type { ChangedEntry, DiffEntry } from './diff.js';
import type { PackageChanges } from './package-diff.js';
import { ownershipIndex, type PackageFileList } from './package-files.js';

/** The paths that changed with one changed package: those of the diff its file list claims. */
export interface PackageFileChanges {
  /** As its file list names it (`libc6`, or `libc6:amd64` for a Multi-Arch: same dpkg package). */
  readonly package: string;
  /** Added paths its list on side B claims. */
  readonly added: readonly string[];
  /** Removed paths its list on side A claims. */
  readonly removed: readonly string[];
  /** Changed paths its list claims on either side. */
  readonly changed: readonly string[];
}

interface Side {
  readonly entries: readonly ManifestEntry[];
  readonly lists: readonly PackageFileList[];
}

/**
 * Per added, removed or upgraded package, the diff's paths it owns; packages whose version did not change
 * are left out. Null when either side's file lists cannot be read.
 */
export function packageFileChanges(
  packages: PackageChanges | null,
  paths: {
    readonly added: readonly DiffEntry[];
    readonly removed: readonly DiffEntry[];
    readonly changed: readonly ChangedEntry[];
  },
  a: Side | null,
  b: Side | null,
): PackageFileChanges[] | null {
  if (packages === null || a === null || b === null) return null;
  const names = new Set([...packages.added, ...packages.removed, ...packages.changed].map((p) => p.name));
  const sides = [a, b].map((side) => ({
    ownership: ownershipIndex(side.entries, side.lists),
    nameOf: new Map(side.lists.map((list) => [list.package, list.name])),
  }));
  const result = new Map<string, { added: string[]; removed: string[]; changed: Set<string> }>();
  const record = (side: 0 | 1, path: string, kind: 'added' | 'removed' | 'changed') => {
    const { ownership, nameOf } = sides[side] as (typeof sides)[number];
    for (const pkg of ownership.byLocation.get(path)?.packages ?? []) {
      if (!names.has(nameOf.get(pkg) ?? pkg)) continue;
      const changes = result.get(pkg) ?? { added: [], removed: [], changed: new Set<string>() };
      result.set(pkg, changes);
      if (kind === 'changed') changes.changed.add(path);
      else changes[kind].push(path);
    }
  };
  for (const entry of paths.added) record(1, entry.path, 'added');
  for (const entry of paths.removed) record(0, entry.path, 'removed');
  for (const entry of paths.changed) {
    record(0, entry.path, 'changed');
    record(1, entry.path, 'changed');
  }
  return [...result]
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
    .map(([pkg, changes]) => ({
      package: pkg,
      added: changes.added,
      removed: changes.removed,
      changed: [...changes.changed].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)),
    }));
}
