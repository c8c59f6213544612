import type { InspectEntry } from './target.js';

export interface LargeFile {
  readonly path: string;
  readonly size: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** The `top` largest regular files (0: all), largest first, ties by path. */
export function largestFiles(entries: readonly InspectEntry[], top: number): LargeFile[] {
  const files = entries.filter((entry) => entry.type === 'file');
  files.sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return (top > 0 ? files.slice(0, top) : files).map(({ path, size, mode, uid, gid }) => ({
    path,
    size,
    mode,
    uid,
    gid,
  }));
}
