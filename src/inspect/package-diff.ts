import type { InstalledPackage, Packages } from './packages.js';

export interface PackageChange {
  readonly name: string;
  readonly architecture: string | null;
  readonly a: string;
  readonly b: string;
}

export interface PackageChanges {
  readonly added: readonly InstalledPackage[];
  readonly removed: readonly InstalledPackage[];
  /** Same package, another version. */
  readonly changed: readonly PackageChange[];
}

/** Package changes between two images; null when either side's packages are unknown (no file contents). */
export function diffPackages(a: Packages | null, b: Packages | null): PackageChanges | null {
  if (a === null || b === null) return null;
  const left = byKey(a.packages);
  const right = byKey(b.packages);
  const added: InstalledPackage[] = [];
  const removed: InstalledPackage[] = [];
  const changed: PackageChange[] = [];
  for (const [key, pkg] of left) {
    const other = right.get(key);
    if (other === undefined) removed.push(pkg);
    else if (other.version !== pkg.version) {
      changed.push({ name: pkg.name, architecture: other.architecture, a: pkg.version, b: other.version });
    }
  }
  for (const [key, pkg] of right) if (!left.has(key)) added.push(pkg);
  return { added, removed, changed };
}

/** Keyed by name and architecture: multiarch installs one name several times. */
function byKey(packages: readonly InstalledPackage[]): Map<string, InstalledPackage> {
  return new Map(packages.map((pkg) => [`${pkg.name}:${pkg.architecture ?? ''}`, pkg]));
}
