import type { InspectEntry } from './target.js';

/** The block size used to estimate on-disk bytes when no folder was measured. */
export const ESTIMATE_BLOCK = 4096;

export interface Summary {
  readonly entries: number;
  readonly directories: number;
  /** Regular files, hardlinks not included. */
  readonly files: number;
  readonly symlinks: number;
  /** Further names of a file already counted. */
  readonly hardlinks: number;
  /** FIFOs and device nodes. */
  readonly special: number;
  readonly fifos: number;
  readonly charDevices: number;
  readonly blockDevices: number;
  /** Sum of regular file sizes, each inode once (as `du --apparent-size` counts file contents). */
  readonly apparentBytes: number;
  /** Bytes taken on disk: measured (st_blocks) for a scanned folder, else estimated. */
  readonly diskBytes: number;
  /** True when diskBytes is an estimate: every file rounded up to 4 KiB, 4 KiB per folder. */
  readonly diskBytesEstimated: boolean;
}

/** On-disk bytes of one entry: measured when the scan recorded them, else an estimate. */
export function diskBytesOf(entry: InspectEntry): number {
  if (entry.diskBytes !== undefined) return entry.diskBytes;
  if (entry.type === 'file') return Math.ceil(entry.size / ESTIMATE_BLOCK) * ESTIMATE_BLOCK;
  return entry.type === 'dir' ? ESTIMATE_BLOCK : 0;
}

export function summarize(entries: readonly InspectEntry[]): Summary {
  const counts = { dir: 0, file: 0, symlink: 0, hardlink: 0, fifo: 0, char: 0, block: 0 };
  let apparentBytes = 0;
  let diskBytes = 0;
  let estimated = false;
  for (const entry of entries) {
    counts[entry.type]++;
    if (entry.type === 'file') apparentBytes += entry.size;
    diskBytes += diskBytesOf(entry);
    if (entry.diskBytes === undefined) estimated = true;
  }
  return {
    entries: entries.length,
    directories: counts.dir,
    files: counts.file,
    symlinks: counts.symlink,
    hardlinks: counts.hardlink,
    special: counts.fifo + counts.char + counts.block,
    fifos: counts.fifo,
    charDevices: counts.char,
    blockDevices: counts.block,
    apparentBytes,
    diskBytes,
    diskBytesEstimated: estimated,
  };
}
