import { UsageError } from '../errors.js';
import type { ManifestEntry } from '../manifest.js';
import { decodeBytes } from '../tar/byte-string.js';
import type { ImageFiles } from './image-files.js';
import { baseName, parentPath, resolveInImage } from './image-paths.js';
import { dpkgPackages, parseStanzas } from './packages.js';

/** The paths one package's database entry claims. */
export interface PackageFileList {
  /**
   * The package as `dpkg -S` names it: the `.list` file's name (`name`, or `name:arch` for a Multi-Arch:
   * same package); for status.d and apk, the package name.
   */
  readonly package: string;
  readonly name: string;
  /** From a `name:arch` list name or the stanza/record; null when the list does not say. */
  readonly architecture: string | null;
  /** The image path of the file that lists them. */
  readonly list: string;
  /** Manifest paths as the list spells them (no leading `/`), in list order; the root (`/.`) left out. */
  readonly paths: readonly string[];
}

const DPKG_INFO = 'var/lib/dpkg/info';
const DPKG_STATUS_D = 'var/lib/dpkg/status.d';
const APK_INSTALLED = 'lib/apk/db/installed';

/**
 * Every package file list the image holds: dpkg `info/*.list` (folders and files; `*.md5sums`, regular
 * files only, where a package has no `.list`), distroless `status.d/<pkg>.md5sums` (and the stanza's
 * Conffiles), apk `F:`/`R:` lines.
 * Null when the target has no file contents to read.
 */
export async function readPackageFileLists(files: ImageFiles): Promise<PackageFileList[] | null> {
  if (!files.available) return null;
  const lists: PackageFileList[] = [];
  const info = files.children(DPKG_INFO).map((entry) => entry.path);
  const listed = new Set(info.filter((path) => path.endsWith('.list')));
  for (const path of info) {
    const isList = path.endsWith('.list');
    const isSums = path.endsWith('.md5sums') && !listed.has(`${path.slice(0, -'.md5sums'.length)}.list`);
    if (!isList && !isSums) continue;
    const bytes = (await files.readText(path))?.bytes;
    if (bytes === undefined) continue;
    const pkg = baseName(path).slice(0, isList ? -'.list'.length : -'.md5sums'.length);
    const colon = pkg.indexOf(':');
    lists.push({
      package: pkg,
      name: colon < 0 ? pkg : pkg.slice(0, colon),
      architecture: colon < 0 ? null : pkg.slice(colon + 1),
      list: path,
      paths: isList ? parseDpkgList(bytes) : parseMd5sums(bytes),
    });
  }
  for (const entry of files.children(DPKG_STATUS_D)) {
    if (entry.path.endsWith('.md5sums')) continue;
    const stanza = await files.readText(entry.path);
    const sums = await files.readText(`${entry.path}.md5sums`);
    const pkg = stanza && dpkgPackages(stanza.text, 'dpkg-status.d')[0];
    if (!stanza || !pkg || !sums) continue;
    lists.push({
      package: pkg.name,
      name: pkg.name,
      architecture: pkg.architecture,
      list: `${entry.path}.md5sums`,
      paths: [...parseMd5sums(sums.bytes), ...conffiles(stanza.bytes)],
    });
  }
  const apk = await files.readText(APK_INSTALLED);
  if (apk) lists.push(...parseApkInstalled(apk.bytes, APK_INSTALLED));
  return lists;
}

/** A dpkg `.list`: one absolute path a line, `/.` for the root. */
export function parseDpkgList(bytes: Buffer): string[] {
  return lines(bytes)
    .map(listPath)
    .filter((path) => path !== '');
}

/** An md5sums file: `<md5>  <path>` lines, paths relative to the root, regular files only. */
export function parseMd5sums(bytes: Buffer): string[] {
  const paths: string[] = [];
  for (const line of lines(bytes)) {
    const match = /^[0-9a-fA-F]{32} [ *](.+)$/s.exec(line);
    if (match) paths.push(listPath(match[1] as string));
  }
  return paths;
}

/**
 * The stanza's `Conffiles:` paths (` /etc/x <md5>` lines): dpkg keeps configuration files out of md5sums,
 * so a status.d whose stanza has the field names them only there.
 */
export function conffiles(stanza: Buffer): string[] {
  const field = parseStanzas(decodeBytes(stanza))[0]?.conffiles ?? '';
  return field
    .split('\n')
    .map((line) => /^(\/.*?) [0-9a-fA-F]{32}( obsolete| remove-on-upgrade)*$/.exec(line.trim())?.[1])
    .filter((path): path is string => path !== undefined)
    .map(listPath);
}

/** Alpine's installed database: per `P:` record, `F:` names a folder (relative) and `R:` a file in it. */
export function parseApkInstalled(bytes: Buffer, list: string): PackageFileList[] {
  const lists: PackageFileList[] = [];
  let name: string | undefined;
  let architecture: string | null = null;
  let folder = '';
  let paths: string[] = [];
  const flush = () => {
    if (name !== undefined) lists.push({ package: name, name, architecture, list, paths });
    name = undefined;
    architecture = null;
    folder = '';
    paths = [];
  };
  // Records are separated by blank lines; a P: line also starts one.
  for (const line of decodeBytes(bytes).split('\n')) {
    if (line.trim() === '') flush();
    else if (line.startsWith('P:')) {
      flush();
      name = line.slice(2);
    } else if (line.startsWith('A:')) architecture = line.slice(2);
    else if (line.startsWith('F:')) {
      folder = listPath(line.slice(2));
      if (folder !== '') paths.push(folder);
    } else if (line.startsWith('R:')) paths.push(listPath(`${folder}/${line.slice(2)}`));
  }
  flush();
  return lists;
}

/** A listed path as a manifest path: no leading or trailing `/`, no `.` parts (dpkg trims `/.` too). */
export function listPath(path: string): string {
  return path
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');
}

function lines(bytes: Buffer): string[] {
  return decodeBytes(bytes)
    .split('\n')
    .filter((line) => line !== '');
}

/**
 * Where a listed path is in the image: its folders followed through the image's symlinks, the last part
 * not. Deliberately unlike dpkg, which compares list strings: with merged /usr (`/bin -> usr/bin`) the
 * `/bin/ls` a package lists is the image's `usr/bin/ls`, so it owns that entry.
 */
export function locationInImage(
  index: ReadonlyMap<string, ManifestEntry>,
  path: string,
  folders: Map<string, string> = new Map(),
): string {
  const parent = parentPath(path);
  if (parent === '') return path;
  let resolved = folders.get(parent);
  if (resolved === undefined) {
    resolved = resolveInImage(index, parent)?.path ?? parent;
    folders.set(parent, resolved);
  }
  return `${resolved}/${baseName(path)}`;
}

/** What the report says about one package's files. */
export interface PackageUsage {
  readonly package: string;
  /** The database file its list comes from. */
  readonly list: string;
  /** Paths its list names (folders included where the list has them). */
  readonly listed: number;
  /** Non-folder entries of the image it claims (files, symlinks, hardlinks, devices). */
  readonly files: number;
  /** Bytes of the regular files among them (a hardlink is not counted again). */
  readonly bytes: number;
}

/** `--owner PATH`: the packages that claim it, as `dpkg -S` answers, plus those that list it by another spelling. */
export interface PathOwners {
  /** The path asked about, as a manifest path. */
  readonly path: string;
  /** Sorted; empty when no package claims it. */
  readonly owners: readonly string[];
  /** Other spellings of the same image entry that lists name (`bin/ls` for `usr/bin/ls`). */
  readonly listedAs: readonly string[];
}

/** `--files PKG`: the paths its list names that are present in the image, as `dpkg -L` lists them. */
export interface PackageFilesAnswer {
  readonly package: string;
  /** False when no file list has that package name (not installed, or its database has no file list). */
  readonly found: boolean;
  /** Manifest paths as the list spells them, in list order; only those present in the image. */
  readonly paths: readonly string[];
}

/**
 * What `report --json` holds under `packageFiles`: each package's share of the image, the entries no
 * package claims, and the answers to `--owner`, `--files` and `--unowned`. Listed paths are matched to
 * entries through the image's folder symlinks (see locationInImage).
 */
export interface PackageFiles {
  /** The databases file lists were read from (`var/lib/dpkg/info`, `var/lib/dpkg/status.d`, `lib/apk/db/installed`). */
  readonly databases: readonly string[];
  /** Sorted by package. */
  readonly packages: readonly PackageUsage[];
  /** Non-folder entries no package claims. */
  readonly unownedCount: number;
  /** With `--unowned`: those entries' paths, sorted; otherwise null. */
  readonly unowned: readonly string[] | null;
  /** With `--owner`: one answer per path, in the order asked; otherwise null. */
  readonly owners: readonly PathOwners[] | null;
  /** With `--files`: one answer per package, in the order asked; otherwise null. */
  readonly files: readonly PackageFilesAnswer[] | null;
}

export interface PackageFilesQuery {
  readonly owner?: readonly string[];
  readonly files?: readonly string[];
  readonly unowned?: boolean;
}

/** Matches the lists against the entries and answers the queries. */
export function packageFiles(
  entries: readonly ManifestEntry[],
  lists: readonly PackageFileList[],
  query: PackageFilesQuery = {},
): PackageFiles {
  const ownership = ownershipIndex(entries, lists);
  const { index } = ownership;
  const packages = lists.map((list): PackageUsage => {
    let files = 0;
    let bytes = 0;
    for (const location of new Set(list.paths.map(ownership.locate))) {
      const entry = index.get(location);
      if (entry === undefined || entry.type === 'dir') continue;
      files++;
      if (entry.type === 'file') bytes += entry.size;
    }
    return { package: list.package, list: list.list, listed: list.paths.length, files, bytes };
  });
  packages.sort((a, b) => compare(a.package, b.package) || compare(a.list, b.list));
  const unowned = entries
    .filter((entry) => entry.type !== 'dir' && !ownership.byLocation.has(entry.path))
    .map((entry) => entry.path);
  const databases = [DPKG_INFO, DPKG_STATUS_D, APK_INSTALLED].filter((db) =>
    lists.some((list) => list.list === db || list.list.startsWith(`${db}/`)),
  );
  return {
    databases,
    packages,
    unownedCount: unowned.length,
    unowned: query.unowned ? unowned : null,
    owners: query.owner ? query.owner.map((path) => ownership.ownersOf(listPath(path))) : null,
    files: query.files
      ? query.files.map((name) => {
          const matching = lists.filter((list) => list.package === name || list.name === name);
          const paths = matching.flatMap((list) =>
            list.paths.filter((path) => index.has(ownership.locate(path))),
          );
          return { package: name, found: matching.length > 0, paths };
        })
      : null,
  };
}

/** Who claims which image entry; shared by the report and the diff. */
export interface OwnershipIndex {
  readonly index: ReadonlyMap<string, ManifestEntry>;
  /** Image location of a listed path (locationInImage). */
  readonly locate: (path: string) => string;
  /** Image location -> the packages whose lists lead there, and the spellings they use. */
  readonly byLocation: ReadonlyMap<string, { packages: Set<string>; spellings: Set<string> }>;
  ownersOf(path: string): PathOwners;
}

export function ownershipIndex(
  entries: readonly ManifestEntry[],
  lists: readonly PackageFileList[],
): OwnershipIndex {
  const index = new Map<string, ManifestEntry>();
  for (const entry of entries) index.set(entry.path, entry);
  const folders = new Map<string, string>();
  const locate = (path: string) => locationInImage(index, path, folders);
  const literal = new Map<string, Set<string>>();
  const byLocation = new Map<string, { packages: Set<string>; spellings: Set<string> }>();
  for (const list of lists) {
    for (const path of list.paths) {
      const owners = literal.get(path) ?? new Set<string>();
      literal.set(path, owners);
      owners.add(list.package);
      const location = locate(path);
      const claim = byLocation.get(location) ?? { packages: new Set<string>(), spellings: new Set<string>() };
      byLocation.set(location, claim);
      claim.packages.add(list.package);
      claim.spellings.add(path);
    }
  }
  return {
    index,
    locate,
    byLocation,
    ownersOf(path) {
      const owners = new Set(literal.get(path));
      const claim = byLocation.get(locate(path));
      for (const pkg of claim?.packages ?? []) owners.add(pkg);
      const listedAs = [...(claim?.spellings ?? [])].filter((spelling) => spelling !== path).sort(compare);
      return { path, owners: [...owners].sort(compare), listedAs };
    },
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The query options, checked once: paths and package names must be non-empty. */
export function packageFilesQuery(options: PackageFilesQuery): PackageFilesQuery {
  for (const path of options.owner ?? []) {
    if (typeof path !== 'string' || listPath(path) === '') {
      throw new UsageError(
        `Invalid owner path ${JSON.stringify(path)}: give a path in the image, such as /etc/passwd.`,
      );
    }
  }
  for (const name of options.files ?? []) {
    if (typeof name !== 'string' || !/^[^\s/]+$/.test(name)) {
      throw new UsageError(
        `Invalid package name ${JSON.stringify(name)} for files: give one such as tzdata.`,
      );
    }
  }
  return options;
}

/** A package's usage row: `libc6` matches the list `libc6` or `libc6:amd64` of its architecture. */
export function usageOf(
  files: PackageFiles,
  pkg: { readonly name: string; readonly architecture: string | null },
): PackageUsage | undefined {
  return files.packages.find(
    (usage) => usage.package === pkg.name || usage.package === `${pkg.name}:${pkg.architecture ?? ''}`,
  );
}
