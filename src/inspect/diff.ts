import type { EntryType, ManifestEntry } from '../manifest.js';
import { folderSizes } from './du.js';
import { ignoreMatcher } from './glob.js';

/** What can differ between two entries at the same path. */
export type ChangeField =
  | 'type'
  | 'content'
  | 'size'
  | 'mode'
  | 'owner'
  | 'target'
  | 'device'
  | 'xattrs'
  | 'mtime';

/** One difference: `a` and `b` are the values on each side (sha256, bytes, mode bits, `uid:gid`, …). */
export interface FieldChange {
  readonly field: ChangeField;
  readonly a: string | number;
  readonly b: string | number;
}

export interface DiffEntry {
  readonly path: string;
  readonly type: EntryType;
  readonly size: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly target?: string;
}

export interface ChangedEntry {
  readonly path: string;
  /** The type on side B. */
  readonly type: EntryType;
  readonly changes: readonly FieldChange[];
}

export interface FolderDelta {
  readonly path: string;
  /** Bytes of regular files below the folder on each side. */
  readonly a: number;
  readonly b: number;
  readonly delta: number;
}

export interface DiffOptions {
  /** Globs of paths to leave out (see ignoreMatcher). */
  readonly ignore?: readonly string[];
  /** Report modification times too. @default false */
  readonly mtime?: boolean;
  /** Compare extended attributes (only meaningful when both sides come from manifests). @default true */
  readonly xattrs?: boolean;
  /** Depth of the per-folder byte deltas. @default 3 */
  readonly depth?: number;
}

export interface ManifestDiff {
  readonly added: readonly DiffEntry[];
  readonly removed: readonly DiffEntry[];
  readonly changed: readonly ChangedEntry[];
  /** Folders whose bytes changed, largest change first. */
  readonly folders: readonly FolderDelta[];
  readonly total: { readonly a: number; readonly b: number; readonly delta: number };
  /** Files of equal size whose content could not be compared (a side without hashes). */
  readonly contentUnknown: number;
}

/**
 * Compares two entry lists, both sorted by path, in one merge pass. Paths that match `ignore` are left
 * out everywhere (folder totals included); modification times count only with `mtime`.
 */
export function diffManifests(
  a: readonly ManifestEntry[],
  b: readonly ManifestEntry[],
  options: DiffOptions = {},
): ManifestDiff {
  const ignored = ignoreMatcher(options.ignore ?? []);
  const left = options.ignore?.length ? a.filter((entry) => !ignored(entry.path)) : a;
  const right = options.ignore?.length ? b.filter((entry) => !ignored(entry.path)) : b;
  const added: DiffEntry[] = [];
  const removed: DiffEntry[] = [];
  const changed: ChangedEntry[] = [];
  let contentUnknown = 0;
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    const x = left[i];
    const y = right[j];
    if (y === undefined || (x !== undefined && x.path < y.path)) {
      removed.push(diffEntry(x as ManifestEntry));
      i++;
    } else if (x === undefined || y.path < x.path) {
      added.push(diffEntry(y));
      j++;
    } else {
      const { changes, unknownContent } = compareEntries(x, y, options);
      if (changes.length > 0) changed.push({ path: y.path, type: y.type, changes });
      if (unknownContent) contentUnknown++;
      i++;
      j++;
    }
  }
  const depth = options.depth ?? 3;
  return { added, removed, changed, ...folderDeltas(left, right, depth), contentUnknown };
}

function compareEntries(x: ManifestEntry, y: ManifestEntry, options: DiffOptions) {
  const changes: FieldChange[] = [];
  let unknownContent = false;
  if (x.type !== y.type)
    return { changes: [{ field: 'type', a: x.type, b: y.type } as FieldChange], unknownContent };
  if (x.type === 'file') {
    if (x.sha256 !== undefined && y.sha256 !== undefined) {
      if (x.sha256 !== y.sha256) changes.push({ field: 'content', a: x.sha256, b: y.sha256 });
    } else if (x.size === y.size) unknownContent = true;
  }
  if (x.size !== y.size) changes.push({ field: 'size', a: x.size, b: y.size });
  if (x.mode !== y.mode) changes.push({ field: 'mode', a: x.mode, b: y.mode });
  if (x.uid !== y.uid || x.gid !== y.gid)
    changes.push({ field: 'owner', a: `${x.uid}:${x.gid}`, b: `${y.uid}:${y.gid}` });
  if ((x.target ?? '') !== (y.target ?? ''))
    changes.push({ field: 'target', a: x.target ?? '', b: y.target ?? '' });
  const deviceA = device(x);
  const deviceB = device(y);
  if (deviceA !== deviceB) changes.push({ field: 'device', a: deviceA, b: deviceB });
  if (options.xattrs ?? true) {
    const xattrsA = xattrs(x);
    const xattrsB = xattrs(y);
    if (xattrsA !== xattrsB) changes.push({ field: 'xattrs', a: xattrsA, b: xattrsB });
  }
  if (options.mtime && x.mtime !== y.mtime) changes.push({ field: 'mtime', a: x.mtime, b: y.mtime });
  return { changes, unknownContent };
}

function device(entry: ManifestEntry): string {
  return entry.devmajor === undefined ? '' : `${entry.devmajor},${entry.devminor ?? 0}`;
}

/** Sorted `name=value` pairs, so the order in which an archive listed them does not count. */
function xattrs(entry: ManifestEntry): string {
  if (!entry.xattrs) return '';
  return JSON.stringify(Object.entries(entry.xattrs).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0)));
}

function diffEntry(entry: ManifestEntry): DiffEntry {
  const { path, type, size, mode, uid, gid, target } = entry;
  return { path, type, size, mode, uid, gid, ...(target !== undefined && { target }) };
}

function folderDeltas(a: readonly ManifestEntry[], b: readonly ManifestEntry[], depth: number) {
  const sizesA = folderSizes(a, depth);
  const sizesB = folderSizes(b, depth);
  const folders: FolderDelta[] = [];
  for (const path of new Set([...sizesA.keys(), ...sizesB.keys()])) {
    const bytesA = sizesA.get(path)?.bytes ?? 0;
    const bytesB = sizesB.get(path)?.bytes ?? 0;
    if (bytesA !== bytesB) folders.push({ path, a: bytesA, b: bytesB, delta: bytesB - bytesA });
  }
  folders.sort(
    (p, q) => Math.abs(q.delta) - Math.abs(p.delta) || (p.path < q.path ? -1 : p.path > q.path ? 1 : 0),
  );
  const totalA = fileBytes(a);
  const totalB = fileBytes(b);
  return { folders, total: { a: totalA, b: totalB, delta: totalB - totalA } };
}

function fileBytes(entries: readonly ManifestEntry[]): number {
  let bytes = 0;
  for (const entry of entries) if (entry.type === 'file') bytes += entry.size;
  return bytes;
}
