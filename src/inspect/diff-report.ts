import { type ChangedEntry, type DiffEntry, diffManifests, type FolderDelta } from './diff.js';
import { ignoreMatcher } from './glob.js';
import { imageFiles } from './image-files.js';
import { diffPackages, type PackageChanges } from './package-diff.js';
import { type PackageFileChanges, packageFileChanges } from './package-file-diff.js';
import { readPackageFileLists } from './package-files.js';
import { readPackages } from './packages.js';
import { type Target, type TargetInfo, targetInfo } from './target.js';
import { type TargetArgument, type TargetArgumentOptions, withTargetArguments } from './target-arguments.js';

export interface DiffReportOptions {
  readonly ignore?: readonly string[];
  readonly mtime?: boolean;
  readonly depth?: number;
}

/**
 * What `diff --json` prints (schema 1). Paths are manifest paths (no leading `/`). A change lists each
 * differing field with its value on side A and side B: `type`, `content` (sha256), `size` (bytes), `mode`
 * (number), `owner` (`uid:gid`), `target` (link target), `device` (`major,minor`), `xattrs`, and `mtime`
 * (seconds, only with --mtime). `identical` is what the exit code says (0 when true, 1 when false).
 */
export interface DiffReport {
  readonly schema: 1;
  readonly kind: 'diff';
  readonly a: TargetInfo;
  readonly b: TargetInfo;
  readonly identical: boolean;
  readonly options: { readonly ignore: readonly string[]; readonly mtime: boolean; readonly depth: number };
  readonly counts: { readonly added: number; readonly removed: number; readonly changed: number };
  readonly added: readonly DiffEntry[];
  readonly removed: readonly DiffEntry[];
  readonly changed: readonly ChangedEntry[];
  /** Regular-file bytes per folder down to `options.depth`, where they differ. */
  readonly folders: readonly FolderDelta[];
  readonly total: { readonly a: number; readonly b: number; readonly delta: number };
  /** Null when a side has no file contents to read its package database from. */
  readonly packages: PackageChanges | null;
  /** Per added, removed or upgraded package, the added/removed/changed paths its file list claims. */
  readonly packageFiles: readonly PackageFileChanges[] | null;
  readonly notes: readonly string[];
}

/**
 * Compares two targets: paths, folder sizes and packages. Each is a loaded target or, as on the command
 * line, an image reference, a dump folder or a manifest file (images are extracted to a temporary folder).
 */
export async function diffTargets(
  a: TargetArgument,
  b: TargetArgument,
  options: DiffReportOptions & TargetArgumentOptions = {},
): Promise<DiffReport> {
  return withTargetArguments([a, b], options, ([left, right]) =>
    diffLoaded(left as Target, right as Target, options),
  );
}

async function diffLoaded(a: Target, b: Target, options: DiffReportOptions): Promise<DiffReport> {
  const ignore = options.ignore ?? [];
  const mtime = options.mtime ?? false;
  const depth = options.depth ?? 3;
  const manifests = a.ownersFrom === 'manifest' && b.ownersFrom === 'manifest';
  const paths = diffManifests(a.entries, b.entries, { ignore, mtime, depth, xattrs: manifests });
  const ignored = ignoreMatcher(ignore);
  const included = (path: string) => !ignored(path);
  const filesA = imageFiles(a);
  const filesB = imageFiles(b);
  const [packagesA, packagesB] = await Promise.all([
    readPackages(filesA, included),
    readPackages(filesB, included),
  ]);
  const packages = diffPackages(packagesA, packagesB);
  const [listsA, listsB] = await Promise.all([readPackageFileLists(filesA), readPackageFileLists(filesB)]);
  const packageFiles = packageFileChanges(
    packages,
    paths,
    listsA && { entries: a.entries, lists: listsA },
    listsB && { entries: b.entries, lists: listsB },
  );
  const notes = [...a.notes.map((note) => `A: ${note}`), ...b.notes.map((note) => `B: ${note}`)];
  notes.push(...filesA.problems.map((p) => `A: ${p}`), ...filesB.problems.map((p) => `B: ${p}`));
  if (paths.contentUnknown > 0) {
    notes.push(
      `${paths.contentUnknown} files of equal size were not compared by content (a scanned folder has no hashes): pass --hash.`,
    );
  }
  if (!manifests)
    notes.push('Extended attributes were not compared (a scanned folder does not record them).');
  const packageChanges = packages
    ? packages.added.length + packages.removed.length + packages.changed.length
    : 0;
  return {
    schema: 1,
    kind: 'diff',
    a: targetInfo(a),
    b: targetInfo(b),
    identical: paths.added.length + paths.removed.length + paths.changed.length + packageChanges === 0,
    options: { ignore, mtime, depth },
    counts: { added: paths.added.length, removed: paths.removed.length, changed: paths.changed.length },
    added: paths.added,
    removed: paths.removed,
    changed: paths.changed,
    folders: paths.folders,
    total: paths.total,
    packages,
    packageFiles,
    notes,
  };
}
