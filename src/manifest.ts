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
  /**
   * Index (0 = lowest) of the layer that last wrote this name: gave a folder its metadata (listed it, or made
   * it as a parent), or wrote a non-folder. Methods that read layers (`fast`, the file sources) only; the
   * article method copies the image's merged root and has none.
   */
  readonly layer?: number;
}

/** Entries (every kind but folders) and the bytes of the regular files among them. */
export interface LayerChange {
  readonly files: number;
  readonly bytes: number;
}

/** A name a layer removed from the layers below, with all that went with it. */
export interface RemovedPath {
  readonly path: string;
  /** Non-folder entries removed at and below `path`. */
  readonly files: number;
  /** Bytes of the regular files among them, each inode once. */
  readonly bytes: number;
}

/**
 * One step of the image config's history, lowest first; a step with a layer carries that layer's facts, as
 * the layer's own tar says them.
 */
export interface ImageLayer {
  /** Index among the layers (0 = lowest), as entries' `layer` names it; absent on an empty layer. */
  readonly index?: number;
  /** The layer's diff ID (sha256 of its uncompressed tar); absent on an empty layer. */
  readonly diff_id?: string;
  /** The history's `created_by`, where it has one. */
  readonly created_by?: string;
  /** A history step that made no layer (ENV, CMD, LABEL …), as the history says. */
  readonly empty_layer?: true;
  /** Bytes of the layer's regular-file members (a hardlink member adds none). */
  readonly size: number;
  /** Non-folder names new to the image, names that replace a lower non-folder, names removed from lower layers. */
  readonly added?: LayerChange;
  readonly changed?: LayerChange;
  readonly deleted?: LayerChange;
  /** Bytes of this layer's regular-file members that are not in the image: a later member overwrote or removed them. */
  readonly wasted?: number;
  /** What the layer removed from lower layers (whiteouts, opaque folders, replaced names), each at its top. */
  readonly removed?: readonly RemovedPath[];
}

/** dive's efficiency of the layers (its `filetree.Efficiency`): `score = minimum_bytes / discovered_bytes`. */
export interface LayerEfficiency {
  readonly score: number;
  /** Per path, the smallest size any layer gave it, summed over paths. */
  readonly minimum_bytes: number;
  /** Per path, the sizes every layer gave it, summed over paths. */
  readonly discovered_bytes: number;
  /** dive's "wasted bytes": the summed sizes of every path more than one layer holds, each copy counted. */
  readonly wasted_bytes: number;
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
  /** The config's history with each layer's facts; methods that read layers only. */
  readonly layers?: readonly ImageLayer[];
  /** dive's efficiency score of those layers; with `layers`. */
  readonly efficiency?: LayerEfficiency;
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
