import type { EntryType } from '../src/manifest.js';

export interface EdgeExpectedEntry {
  readonly path: string;
  /** Hardlinked names appear as the type they resolve to. */
  readonly type: Exclude<EntryType, 'hardlink'>;
  /** Absent for symlinks, whose mode is not kept on disk. */
  readonly mode?: number;
  readonly uid: number;
  readonly gid: number;
  /** Exact bytes of a regular file. */
  readonly content?: string | Buffer;
  readonly mtime?: number;
  readonly target?: string;
  readonly devmajor?: number;
  readonly devminor?: number;
  readonly xattrs?: Readonly<Record<string, Buffer>>;
}

export declare const EDGE_IMAGE_CONTENTS: Readonly<{
  entries: readonly EdgeExpectedEntry[];
  absent: readonly string[];
  children: Readonly<Record<string, readonly string[]>>;
  hardlinkGroups: readonly (readonly string[])[];
}>;
