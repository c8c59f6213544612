import type { ManifestEntry } from '../manifest.js';

type Required = 'path' | 'type' | 'mode' | 'uid' | 'gid' | 'size' | 'mtime';
type EntryFields = Pick<ManifestEntry, Required> & {
  readonly [K in Exclude<keyof ManifestEntry, Required>]?: ManifestEntry[K] | undefined;
};

/** A manifest entry with its keys in the one order every method writes, and no undefined fields. */
export function entryOf(fields: EntryFields): ManifestEntry {
  const { path, type, mode, uid, gid, size, mtime, target, sha256, devmajor, devminor, xattrs, layer } =
    fields;
  const plain =
    target === undefined &&
    devmajor === undefined &&
    devminor === undefined &&
    (xattrs === undefined || Object.keys(xattrs).length === 0) &&
    layer !== undefined;
  // The common shapes as whole literals: their fields live in the object itself, where fields added later
  // need a second allocation; for each of many entries.
  if (plain && sha256 !== undefined) return { path, type, mode, uid, gid, size, mtime, sha256, layer };
  if (plain && sha256 === undefined) return { path, type, mode, uid, gid, size, mtime, layer };
  // Assigned in order rather than spread: no short-lived object per field.
  const entry: { -readonly [K in keyof ManifestEntry]: ManifestEntry[K] } = {
    path,
    type,
    mode,
    uid,
    gid,
    size,
    mtime,
  };
  if (target !== undefined) entry.target = target;
  if (sha256 !== undefined) entry.sha256 = sha256;
  if (devmajor !== undefined) entry.devmajor = devmajor;
  if (devminor !== undefined) entry.devminor = devminor;
  if (xattrs !== undefined && Object.keys(xattrs).length > 0) entry.xattrs = xattrs;
  if (layer !== undefined) entry.layer = layer;
  return entry;
}

/**
 * Rewrites every hardlink group the same way whatever produced it, keyed by `path`, the exact byte identity of
 * a name (byte-string.ts: two names that differ in one byte never meet): the code-unit-smallest name holds the
 * inode's own entry, the others are hardlinks to it, all with the inode's metadata. An archive names the
 * first name of its walk as the file and an image layer may name any, so without this the article and fast
 * methods would describe one inode differently.
 */
export function canonicaliseHardlinks(entries: readonly ManifestEntry[]): ManifestEntry[] {
  // Only the names of hardlink groups are looked up by path: a map of every entry would be the largest
  // object of a run on an image of many small files.
  const byPath = new Map<string, ManifestEntry>();
  const targets = new Set<string>();
  for (const entry of entries) {
    if (entry.type !== 'hardlink') continue;
    byPath.set(entry.path, entry);
    targets.add(entry.target ?? '');
  }
  if (byPath.size === 0) return [...entries];
  for (const entry of entries) {
    if (entry.type !== 'hardlink' && targets.has(entry.path)) byPath.set(entry.path, entry);
  }
  const groups = new Map<string, string[]>();
  for (const entry of entries) {
    if (entry.type !== 'hardlink') continue;
    const root = resolve(entry, byPath);
    if (!root) continue;
    const members = groups.get(root.path) ?? [root.path];
    members.push(entry.path);
    groups.set(root.path, members);
  }
  const replaced = new Map<string, ManifestEntry>();
  for (const [rootPath, members] of groups) {
    const root = byPath.get(rootPath) as ManifestEntry;
    const [first, ...others] = [...new Set(members)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (first === undefined) continue;
    // Each name keeps the layer that wrote it: the group shares an inode, not a history.
    replaced.set(first, entryOf({ ...root, path: first, layer: byPath.get(first)?.layer }));
    for (const path of others) {
      const { mode, uid, gid, mtime, xattrs } = root;
      replaced.set(
        path,
        entryOf({
          path,
          type: 'hardlink',
          mode,
          uid,
          gid,
          size: 0,
          mtime,
          target: first,
          xattrs,
          sha256: undefined,
          layer: byPath.get(path)?.layer,
        }),
      );
    }
  }
  return entries.map((entry) => replaced.get(entry.path) ?? entry);
}

/** The non-hardlink entry a hardlink ends at, or undefined when the chain dangles or loops. */
function resolve(
  entry: ManifestEntry,
  byPath: ReadonlyMap<string, ManifestEntry>,
): ManifestEntry | undefined {
  let current: ManifestEntry | undefined = entry;
  for (let hops = 0; current?.type === 'hardlink'; hops++) {
    if (hops > byPath.size) return undefined;
    current = byPath.get(current.target ?? '');
  }
  return current;
}
