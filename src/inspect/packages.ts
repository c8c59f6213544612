import type { ImageFiles } from './image-files.js';

/** Which database a package was read from. */
export type PackageSource = 'dpkg' | 'dpkg-status.d' | 'apk';

export interface InstalledPackage {
  readonly name: string;
  readonly version: string;
  readonly architecture: string | null;
  readonly source: PackageSource;
}

export interface Packages {
  /** Databases found, as image paths (`var/lib/dpkg/status`, `var/lib/dpkg/status.d`, `lib/apk/db/installed`). */
  readonly databases: readonly string[];
  /** Sorted by name, then architecture. */
  readonly packages: readonly InstalledPackage[];
}

const DPKG_STATUS = 'var/lib/dpkg/status';
const DPKG_STATUS_D = 'var/lib/dpkg/status.d';
const APK_INSTALLED = 'lib/apk/db/installed';

/** Stanzas of a deb822 file (dpkg status): `Field: value` lines, continuation lines start with a space. */
export function parseStanzas(text: string): Record<string, string>[] {
  const stanzas: Record<string, string>[] = [];
  let current: Record<string, string> = {};
  let field: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (Object.keys(current).length > 0) stanzas.push(current);
      current = {};
      field = undefined;
    } else if (/^[ \t]/.test(line)) {
      if (field !== undefined) current[field] += `\n${line.trimStart()}`;
    } else {
      const colon = line.indexOf(':');
      if (colon < 1) continue;
      // Field names are case-insensitive (deb822); keep one spelling.
      field = line.slice(0, colon).toLowerCase();
      current[field] = line.slice(colon + 1).trim();
    }
  }
  if (Object.keys(current).length > 0) stanzas.push(current);
  return stanzas;
}

/** Installed packages of dpkg stanzas: packages left only as config files or not installed are skipped. */
export function dpkgPackages(text: string, source: PackageSource): InstalledPackage[] {
  const packages: InstalledPackage[] = [];
  for (const stanza of parseStanzas(text)) {
    const { package: name, version, architecture, status } = stanza;
    if (name === undefined || version === undefined) continue;
    const state = status?.split(/\s+/)[2];
    if (state === 'not-installed' || state === 'config-files') continue;
    packages.push({ name, version, architecture: architecture ?? null, source });
  }
  return packages;
}

/** Alpine's installed database: records of `X:value` lines separated by blank lines (P name, V version, A arch). */
export function apkPackages(text: string): InstalledPackage[] {
  const packages: InstalledPackage[] = [];
  let record: Record<string, string> = {};
  const flush = () => {
    if (record.P !== undefined && record.V !== undefined) {
      packages.push({ name: record.P, version: record.V, architecture: record.A ?? null, source: 'apk' });
    }
    record = {};
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') flush();
    else if (line[1] === ':') record[line[0] as string] ??= line.slice(2);
  }
  flush();
  return packages;
}

/** Packages from every database the image has; null when the target has no file contents to read. */
export async function readPackages(files: ImageFiles, include: (path: string) => boolean = () => true) {
  if (!files.available) return null;
  const databases: string[] = [];
  const packages: InstalledPackage[] = [];
  const status = include(DPKG_STATUS) ? await files.readText(DPKG_STATUS) : undefined;
  if (status) {
    databases.push(DPKG_STATUS);
    packages.push(...dpkgPackages(status.text, 'dpkg'));
  }
  // Distroless: one stanza per file, beside a .md5sums file listing the package's files.
  const stanzaFiles = files
    .children(DPKG_STATUS_D)
    .filter((entry) => !entry.path.endsWith('.md5sums') && include(entry.path));
  if (stanzaFiles.length > 0) databases.push(DPKG_STATUS_D);
  for (const entry of stanzaFiles) {
    const file = await files.readText(entry.path);
    if (file) packages.push(...dpkgPackages(file.text, 'dpkg-status.d'));
  }
  const apk = include(APK_INSTALLED) ? await files.readText(APK_INSTALLED) : undefined;
  if (apk) {
    databases.push(APK_INSTALLED);
    packages.push(...apkPackages(apk.text));
  }
  packages.sort(
    (a, b) =>
      compare(a.name, b.name) ||
      compare(a.architecture ?? '', b.architecture ?? '') ||
      compare(a.version, b.version),
  );
  return { databases, packages } satisfies Packages;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
