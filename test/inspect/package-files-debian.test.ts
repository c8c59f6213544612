import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, readlinkSync, realpathSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { imageFiles } from '../../src/inspect/image-files.js';
import { withTarget } from '../../src/inspect/load-target.js';
import { type PackageFiles, packageFiles, readPackageFileLists } from '../../src/inspect/package-files.js';
import { debianRoot } from '../support/debian-root.js';

// The oracle is dpkg-query itself over the root's own database; the root is used as a dump folder.
let root: string;
let admin: string;
let report: PackageFiles;
let allPaths: string[];
let nonFolders: string[];
let installed: string[];
beforeAll(async () => {
  root = await debianRoot();
  admin = `--admindir=${join(root, 'var/lib/dpkg')}`;
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own field syntax.
  installed = execFileSync('dpkg-query', [admin, '-W', '-f', '${binary:Package}\\n'], { encoding: 'utf8' })
    .trim()
    .split('\n');
  allPaths = execFileSync('find', ['.', '-mindepth', '1'], { cwd: root, encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((path) => path.slice(2));
  nonFolders = allPaths.filter((path) => !lstatSync(join(root, path)).isDirectory());
  report = await withTarget(root, {}, async (target) => {
    const lists = await readPackageFileLists(imageFiles(target));
    if (lists === null) throw new Error('a dump folder has file contents');
    return packageFiles(target.entries, lists, { unowned: true, owner: allPaths, files: installed });
  });
}, 900_000);

/** `dpkg-query -S` for many paths at once: path -> owners (diversion lines left out). */
function dpkgOwners(paths: readonly string[]): Map<string, string[]> {
  const owners = new Map<string, string[]>();
  for (let i = 0; i < paths.length; i += 2000) {
    const chunk = paths.slice(i, i + 2000).map((path) => `/${path}`);
    const result = spawnSync('dpkg-query', [admin, '-S', ...chunk], { encoding: 'utf8', maxBuffer: 1 << 28 });
    for (const line of result.stdout.split('\n')) {
      if (line === '' || line.startsWith('diversion by ')) continue;
      const at = line.indexOf(': /');
      owners.set(line.slice(at + 3), line.slice(0, at).split(', ').sort());
    }
  }
  return owners;
}

/** The root's folder symlinks (`bin -> usr/bin`, merged /usr), read from the host's filesystem. */
function folderLinks(): Map<string, string> {
  const links = new Map<string, string>();
  for (const name of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
    try {
      links.set(name, readlinkSync(join(root, name)));
    } catch {}
  }
  return links;
}

/** Both spellings of a path under merged /usr: `bin/ls` and `usr/bin/ls`. */
function spellings(path: string, links: Map<string, string>): string[] {
  for (const [link, target] of links) {
    if (path.startsWith(`${link}/`)) return [path, `${target}${path.slice(link.length)}`];
    if (path.startsWith(`${target}/`)) return [path, `${link}${path.slice(target.length)}`];
  }
  return [path];
}

describe('package files of a debootstrap root, against dpkg-query', () => {
  it('--owner answers as dpkg -S for every path, and also by the merged-/usr spelling where dpkg finds none', () => {
    const links = folderLinks();
    const aliases = allPaths.flatMap((path) => spellings(path, links).slice(1));
    const dpkg = dpkgOwners([...allPaths, ...aliases]);
    let differs = 0;
    for (const answer of report.owners ?? []) {
      const literal = dpkg.get(answer.path) ?? [];
      // The deliberate difference (locationInImage): either spelling of the same image entry owns it.
      const expected = [...new Set(spellings(answer.path, links).flatMap((p) => dpkg.get(p) ?? []))].sort();
      expect(answer.owners, `/${answer.path}`).toEqual(expected);
      if (literal.length !== expected.length) differs++;
    }
    expect(report.owners?.length).toBe(allPaths.length);
    expect(allPaths.length).toBeGreaterThan(5000);
    // The difference by name: dpkg -S /usr/bin/ls finds nothing (coreutils lists /bin/ls).
    expect(dpkg.get('usr/bin/ls')).toBeUndefined();
    expect(dpkg.get('bin/ls')).toEqual(['coreutils']);
    expect(report.owners?.find((a) => a.path === 'usr/bin/ls')).toEqual({
      path: 'usr/bin/ls',
      owners: ['coreutils'],
      listedAs: ['bin/ls'],
    });
    expect(dpkg.get('usr/share/zoneinfo/UTC')).toEqual(['tzdata']);
    expect(differs).toBeGreaterThan(100);
  });

  it('--files lists what dpkg -L lists for every package, those present in the image', () => {
    expect(installed.length).toBeGreaterThan(80);
    for (const answer of report.files ?? []) {
      const listed = execFileSync('dpkg-query', [admin, '-L', answer.package], { encoding: 'utf8' })
        .split('\n')
        // dpkg -L prints the root as /., not an entry of a dump; and its diversion notes.
        .filter((line) => line.startsWith('/') && line !== '/.')
        .map((line) => line.slice(1));
      const present = listed.filter((path) => exists(join(root, path)));
      expect(answer.found, answer.package).toBe(true);
      expect(answer.paths, answer.package).toEqual(present);
    }
    expect(report.files?.length).toBe(installed.length);
  });

  it('--unowned is every non-folder entry that dpkg -S finds under neither spelling', () => {
    const links = folderLinks();
    const dpkg = dpkgOwners([
      ...nonFolders,
      ...nonFolders.flatMap((path) => spellings(path, links).slice(1)),
    ]);
    const unowned = nonFolders.filter((path) => spellings(path, links).every((p) => !dpkg.has(p))).sort();
    expect(report.unowned).toEqual(unowned);
    expect(report.unownedCount).toBe(unowned.length);
    expect(unowned).toContain('etc/passwd');
    expect(unowned).toContain('var/lib/dpkg/status');
    expect(unowned).not.toContain('usr/bin/ls');
  });

  it('gives each package its present files and their bytes, as lstat counts its dpkg -L paths', () => {
    for (const usage of report.packages) {
      const listed = execFileSync('dpkg-query', [admin, '-L', usage.package], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => line.startsWith('/') && line !== '/.');
      const places = new Map<string, Stats>();
      for (const line of listed) {
        const absolute = join(root, line);
        if (!exists(absolute)) continue;
        // The host resolves the folders: the place a listed path is, by its real parent folder.
        const place = join(realpathSync(dirname(absolute)), basename(absolute));
        const stats = lstatSync(place);
        if (!stats.isDirectory()) places.set(place, stats);
      }
      const inodes = new Map<number, number>();
      for (const stats of places.values())
        if (stats.isFile()) inodes.set(Number(stats.ino), Number(stats.size));
      expect(usage.files, usage.package).toBe(places.size);
      expect(usage.bytes, usage.package).toBe([...inodes.values()].reduce((sum, size) => sum + size, 0));
    }
    expect(report.packages.find((p) => p.package === 'tzdata')?.bytes).toBeGreaterThan(1_000_000);
    expect(report.databases).toEqual(['var/lib/dpkg/info']);
  });
});

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
