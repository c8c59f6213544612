import { UsageError } from '../errors.js';
import type { ImageInfo } from '../manifest.js';
import type { ExtractMethod } from '../options.js';
import { type Accounts, readAccounts } from './accounts.js';
import { type DuTable, duTable } from './du.js';
import { imageFiles } from './image-files.js';
import { type LargeFile, largestFiles } from './largest-files.js';
import { type LayerReport, layerReport } from './layers.js';
import { type OsRelease, readOsRelease } from './os-release.js';
import { type PackageFiles, packageFiles, packageFilesQuery, readPackageFileLists } from './package-files.js';
import { type Packages, readPackages } from './packages.js';
import { type SecurityFindings, securityFindings } from './security.js';
import { type Summary, summarize } from './summary.js';
import { type Target, type TargetInfo, targetInfo } from './target.js';
import { type TargetArgument, type TargetArgumentOptions, withTargetArguments } from './target-arguments.js';
import { type TreeListing, treeListing } from './tree.js';

export interface ReportOptions {
  /** Folder depth of the du table and the tree. @default 3 */
  readonly depth?: number;
  /** Rows of the heaviest-folders and largest-files tables; 0 for all. @default 20 */
  readonly top?: number;
  /** Include the tree listing. @default false */
  readonly tree?: boolean;
  /** Paths to answer as `dpkg -S` does (`packageFiles.owners`). */
  readonly owner?: readonly string[];
  /** Packages whose files present in the image to list, as `dpkg -L` does (`packageFiles.files`). */
  readonly files?: readonly string[];
  /** List the non-folder entries no package claims (`packageFiles.unowned`). @default false */
  readonly unowned?: boolean;
  /**
   * Per layer what it added, changed, deleted and wasted, and dive's efficiency (`layers`). Needs a manifest
   * with layer records (the fast method, file sources); an image reference is dumped with the fast method
   * unless `method` says otherwise. @default false
   */
  readonly layers?: boolean;
}

/**
 * What `report --json` prints (schema 1). Paths are manifest paths: relative to the image root, no leading
 * `/`. Modes are numbers (permission bits with setuid/setgid/sticky), sizes are bytes. Sections that need
 * file contents (accounts, os, packages) are null when the target has none (a manifest with no dump folder
 * beside it); `notes` says why. New fields may be added; existing ones keep their meaning.
 */
export interface Report {
  readonly schema: 1;
  readonly kind: 'report';
  readonly target: TargetInfo;
  /** Reference, id, platform, user, workdir, env, entrypoint, cmd; null for a scanned folder. */
  readonly image: ImageInfo | null;
  readonly summary: Summary;
  readonly du: DuTable;
  /** Present with `--tree`. */
  readonly tree: TreeListing | null;
  readonly accounts: Accounts | null;
  readonly os: OsRelease | null;
  readonly packages: Packages | null;
  /** Files per package, unowned entries, and the `--owner`/`--files`/`--unowned` answers (see PackageFiles). */
  readonly packageFiles: PackageFiles | null;
  readonly security: SecurityFindings;
  readonly largestFiles: readonly LargeFile[];
  /** Present with `--layers`. */
  readonly layers: LayerReport | null;
  readonly notes: readonly string[];
}

export const DEFAULT_DEPTH = 3;
export const DEFAULT_TOP = 20;

/**
 * Builds the whole report of a target (loaded, or an image reference, dump folder or manifest file as on
 * the command line); reads only the few small files it needs.
 */
export async function reportFor(
  target: TargetArgument,
  options: ReportOptions & TargetArgumentOptions = {},
): Promise<Report> {
  const method = reportMethod(options.layers ?? false, options.method);
  return withTargetArguments([target], { ...options, method }, ([loaded]) =>
    reportLoaded(loaded as Target, options),
  );
}

/**
 * The method an image target of a report is dumped with: `--layers` needs the layers read, so it means
 * `fast` unless told otherwise, and refuses `article`, before any work.
 */
export function reportMethod(layers: boolean, method: ExtractMethod | undefined): ExtractMethod | undefined {
  if (!layers) return method;
  if (method === 'article') {
    throw new UsageError(
      '--layers reads the layers of the image, and --method article reads none: drop --method article.',
    );
  }
  return 'fast';
}

async function reportLoaded(target: Target, options: ReportOptions): Promise<Report> {
  const depth = options.depth ?? DEFAULT_DEPTH;
  const top = options.top ?? DEFAULT_TOP;
  const query = packageFilesQuery(options);
  // Before any file is read: a target without layer records is a usage error.
  const layers = options.layers ? layerReport(target) : null;
  const files = imageFiles(target);
  const [accounts, os, packages, fileLists] = await Promise.all([
    readAccounts(files),
    readOsRelease(files),
    readPackages(files),
    readPackageFileLists(files),
  ]);
  const summary = summarize(target.entries);
  const notes = [...target.notes, ...files.problems];
  if (summary.diskBytesEstimated) {
    notes.push(
      'On-disk bytes are estimated from the manifest: each file rounded up to 4 KiB, 4 KiB per folder.',
    );
  }
  return {
    schema: 1,
    kind: 'report',
    target: targetInfo(target),
    image: target.image,
    summary,
    du: duTable(target.entries, { depth, top }),
    tree: options.tree ? treeListing(target.entries, depth) : null,
    accounts,
    os,
    packages,
    packageFiles: fileLists && packageFiles(target.entries, fileLists, query),
    security: securityFindings(target.entries, accounts),
    largestFiles: largestFiles(target.entries, top),
    layers,
    notes,
  };
}
