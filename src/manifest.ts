/** The kinds of entry a dump holds, named as in the manifest. */
export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo' | 'char' | 'block';

/**
 * One filesystem entry of the image, as the image's archive describes it (true owners, even when the dump could
 * not apply them).
 *
 * Names are bytes: `path`, `target` and xattr names and values are the archive's bytes decoded as UTF-8 where
 * they are valid UTF-8, each other byte as the lone surrogate U+DC00+byte (Python's `surrogateescape`; JSON
 * writes it `\udcff`). That is a bijection, so `path` is the entry's exact identity: no two entries share one.
 */
export interface ManifestEntry {
  /** Relative to the image root, `/`-separated, no leading `./` or `/`; a byte string as above. */
  readonly path: string;
  readonly type: EntryType;
  /** Permission bits including setuid (0o4000), setgid (0o2000) and sticky (0o1000). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Bytes of content for regular files; 0 otherwise. */
  readonly size: number;
  /** Modification time in whole seconds since the epoch. */
  readonly mtime: number;
  /** Symlink target byte-exact as stored, or the path (relative to the image root) a hardlink points to. */
  readonly target?: string;
  /** Hex SHA-256 of a regular file's content. */
  readonly sha256?: string;
  /** Device numbers of char and block devices. */
  readonly devmajor?: number;
  readonly devminor?: number;
  /** Extended attributes the archive carries (PAX `SCHILY.xattr.*`, as Go reads them), by name; exact bytes as above. */
  readonly xattrs?: Readonly<Record<string, string>>;
}

/** What the engine says of the source image. */
export interface ImageInfo {
  /** The reference as the user gave it. */
  readonly reference: string;
  /** The image ID (`sha256:…`). */
  readonly id: string;
  /** The repository digest (`name@sha256:…`) when the engine knows one (pulled images). */
  readonly digest?: string;
  /** `os/architecture[/variant]`. */
  readonly platform: string;
  readonly user: string;
  readonly workdir: string;
  readonly env: readonly string[];
  readonly entrypoint: readonly string[] | null;
  readonly cmd: readonly string[] | null;
}

/** The JSON document `--manifest FILE` writes. */
export interface Manifest {
  readonly schema: 1;
  readonly tool: { readonly name: string; readonly version: string };
  readonly method: 'article' | 'fast';
  readonly image: ImageInfo;
  /**
   * The `--path` selection (absolute, normalised, nested ones folded), when one was given: `entries` then hold
   * those subtrees and the folders above them only, each folder with its own metadata from the image.
   */
  readonly paths?: readonly string[];
  /** Sorted by `path` (code-unit order). */
  readonly entries: readonly ManifestEntry[];
  /** What the run warned of (paths the engine left out, device nodes not made), when anything. */
  readonly warnings?: readonly string[];
}

export interface EntryCounts {
  readonly entries: number;
  readonly files: number;
  readonly dirs: number;
  readonly symlinks: number;
  readonly hardlinks: number;
  /** FIFOs and device nodes. */
  readonly special: number;
  /** Sum of regular file sizes. */
  readonly bytes: number;
}

export function sortEntries<T extends { readonly path: string }>(entries: T[]): T[] {
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function countEntries(entries: readonly ManifestEntry[]): EntryCounts {
  let files = 0;
  let dirs = 0;
  let symlinks = 0;
  let hardlinks = 0;
  let special = 0;
  let bytes = 0;
  for (const entry of entries) {
    if (entry.type === 'file') {
      files++;
      bytes += entry.size;
    } else if (entry.type === 'dir') dirs++;
    else if (entry.type === 'symlink') symlinks++;
    else if (entry.type === 'hardlink') hardlinks++;
    else special++;
  }
  return { entries: entries.length, files, dirs, symlinks, hardlinks, special, bytes };
}
