import { pathDepth } from './image-paths.js';
import { diskBytesOf } from './summary.js';
import type { InspectEntry } from './target.js';

export interface FolderSize {
  /** Sum of regular file sizes below the folder. */
  readonly bytes: number;
  /** On-disk bytes of the folder itself and everything below it, as `du` counts them. */
  readonly diskBytes: number;
  /** Entries below the folder (the folder itself not counted). */
  readonly entries: number;
}

export interface DuRow extends FolderSize {
  /** Manifest path of the folder, e.g. `usr/share/zoneinfo`. */
  readonly path: string;
  readonly depth: number;
  /** bytes / total bytes, 0 to 1. */
  readonly share: number;
}

export interface DuTable {
  /** Folders down to this many components are listed, as `du -d`. */
  readonly depth: number;
  /** The whole image (the root folder's own block is not an entry, so not counted). */
  readonly total: FolderSize;
  /** Heaviest first (by bytes, then path). */
  readonly rows: readonly DuRow[];
  /** Rows left out by the row limit. */
  readonly omitted: number;
}

interface MutableSize {
  bytes: number;
  diskBytes: number;
  entries: number;
}

/**
 * Sizes of every folder down to `depth`, in one pass: each entry adds to its ancestors up to that depth.
 * Hardlinks add nothing (their inode was counted once already), as du does.
 */
export function folderSizes(entries: readonly InspectEntry[], depth: number): Map<string, FolderSize> {
  const sizes = new Map<string, MutableSize>();
  const folder = (path: string) => {
    let size = sizes.get(path);
    if (size === undefined) {
      size = { bytes: 0, diskBytes: 0, entries: 0 };
      sizes.set(path, size);
    }
    return size;
  };
  for (const entry of entries) {
    const bytes = entry.type === 'file' ? entry.size : 0;
    const disk = diskBytesOf(entry);
    let level = 0;
    for (
      let slash = entry.path.indexOf('/');
      slash >= 0 && level < depth;
      slash = entry.path.indexOf('/', slash + 1)
    ) {
      const size = folder(entry.path.slice(0, slash));
      size.bytes += bytes;
      size.diskBytes += disk;
      size.entries++;
      level++;
    }
    if (entry.type === 'dir' && pathDepth(entry.path) <= depth) folder(entry.path).diskBytes += disk;
  }
  return sizes;
}

/** The `du -d N` table: every folder down to `depth`, heaviest first, at most `top` rows (0: all). */
export function duTable(entries: readonly InspectEntry[], options: { depth: number; top: number }): DuTable {
  const total: MutableSize = { bytes: 0, diskBytes: 0, entries: entries.length };
  for (const entry of entries) {
    if (entry.type === 'file') total.bytes += entry.size;
    total.diskBytes += diskBytesOf(entry);
  }
  const rows: DuRow[] = [];
  for (const [path, size] of folderSizes(entries, options.depth)) {
    rows.push({
      path,
      depth: pathDepth(path),
      ...size,
      share: total.bytes === 0 ? 0 : size.bytes / total.bytes,
    });
  }
  rows.sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const shown = options.top > 0 ? rows.slice(0, options.top) : rows;
  return { depth: options.depth, total, rows: shown, omitted: rows.length - shown.length };
}
