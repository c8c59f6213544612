import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadPackages } from '../../docker/debian-packages.mjs';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { type Report, reportFor } from '../../src/inspect/report.js';
import { dumpImage } from './dumps.js';

// The local distroless look-alike, dumped with the tool; the oracle is dpkg-deb -c of the same .debs.
let work: string;
let report: Report;
let debs: Map<string, string>;
let nonFolders: string[];
let folder: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dc-package-files-distroless-'));
  ({ folder } = await dumpImage(TEST_IMAGES.staticNonroot, work, 'static'));
  const first = await reportFor(folder);
  const names = (first.packages?.packages ?? []).map((p) => p.name);
  mkdirSync(join(work, 'debs'));
  debs = await downloadPackages(names, join(work, 'debs'), () => {});
  for (const pkg of first.packages?.packages ?? []) {
    const version = execFileSync('dpkg-deb', ['-f', debs.get(pkg.name) as string, 'Version'], {
      encoding: 'utf8',
    }).trim();
    if (version !== pkg.version)
      throw new Error(`${pkg.name}: image has ${pkg.version}, apt gave ${version}`);
  }
  report = await reportFor(folder, {
    files: names,
    unowned: true,
    owner: ['/usr/share/zoneinfo/UTC', '/usr/share/zoneinfo/Etc/UTC'],
  });
  nonFolders = execFileSync('find', ['.', '-mindepth', '1', '-not', '-type', 'd'], {
    cwd: folder,
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .map((path) => path.slice(2))
    .sort();
}, 900_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * The regular files (hardlinks included) a .deb holds, by `dpkg-deb -c`, less its conffiles: what its
 * md5sums names (the look-alike's stanzas are control files, with no Conffiles field to name the rest).
 */
function debRegularFiles(deb: string): string[] {
  const conffiles = new Set(
    spawnSync('dpkg-deb', ['--info', deb, 'conffiles'], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean)
      .map((line) => line.replace(/^\//, '')),
  );
  const files: string[] = [];
  for (const line of execFileSync('dpkg-deb', ['-c', deb], { encoding: 'utf8' }).split('\n')) {
    const match = /^([-h])\S*\s+\S+\s+\d+\s+\S+\s+\S+\s+\.\/(.*)$/.exec(line);
    if (!match) continue;
    const path = match[1] === 'h' ? (match[2] as string).replace(/ link to .*$/, '') : (match[2] as string);
    if (!conffiles.has(path)) files.push(path);
  }
  return files.sort();
}

describe('package files of a distroless status.d, against dpkg-deb -c', () => {
  it('--files lists each package regular files, as its .deb holds them (status.d md5sums name no folders or links)', () => {
    const files = report.packageFiles?.files ?? [];
    expect(files.map((f) => f.package).sort()).toEqual(['base-files', 'media-types', 'netbase', 'tzdata']);
    for (const answer of files) {
      expect(answer.found).toBe(true);
      expect([...answer.paths].sort(), answer.package).toEqual(
        debRegularFiles(debs.get(answer.package) as string),
      );
    }
    expect(report.packageFiles?.databases).toEqual(['var/lib/dpkg/status.d']);
    // md5sums name no symlinks: this tzdata's UTC is a link to Etc/UTC, which is tzdata's.
    expect(lstatSync(join(folder, 'usr/share/zoneinfo/UTC')).isSymbolicLink()).toBe(true);
    expect(report.packageFiles?.owners).toEqual([
      { path: 'usr/share/zoneinfo/UTC', owners: [], listedAs: [] },
      { path: 'usr/share/zoneinfo/Etc/UTC', owners: ['tzdata'], listedAs: [] },
    ]);
  });

  it('--unowned is every non-folder entry that is not a regular file of those .debs', () => {
    const claimed = new Set([...debs.values()].flatMap(debRegularFiles));
    const unowned = nonFolders.filter((path) => !claimed.has(path));
    expect(report.packageFiles?.unowned).toEqual(unowned);
    // What distroless adds itself, the packages' own symlinks (md5sums lists regular files only) and
    // their conffiles (dpkg keeps those out of md5sums).
    expect(unowned).toContain('etc/debian_version');
    expect(unowned).toContain('etc/passwd');
    expect(unowned).toContain('etc/ssl/certs/ca-certificates.crt');
    expect(unowned).toContain('etc/os-release');
  });
});
