import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { imageFiles } from '../../src/inspect/image-files.js';
import { withTarget } from '../../src/inspect/load-target.js';
import { apkPackages, dpkgPackages, readPackages } from '../../src/inspect/packages.js';
import { dumpImage } from './dumps.js';

let work: string;
let folder: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dc-packages-'));
  ({ folder } = await dumpImage(TEST_IMAGES.baseNosslNonroot, work, 'base-nossl'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** dpkg-query itself over a status file: the oracle for what is installed. */
function dpkgQuery(adminDir: string): string[] {
  return execFileSync(
    'dpkg-query',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own field syntax.
    [`--admindir=${adminDir}`, '-W', '-f', '${db:Status-Status} ${Package} ${Version} ${Architecture}\\n'],
    { encoding: 'utf8' },
  )
    .trim()
    .split('\n')
    .filter((line) => line.startsWith('installed '))
    .map((line) => line.slice('installed '.length))
    .sort();
}

describe('packages', () => {
  it('reads distroless status.d stanzas (skipping .md5sums) as dpkg-query reads them joined into one status file', async () => {
    const packages = await withTarget(folder, {}, (target) => readPackages(imageFiles(target)));
    const statusD = join(folder, 'var/lib/dpkg/status.d');
    const stanzas = readdirSync(statusD)
      .filter((name) => !name.endsWith('.md5sums'))
      .map((name) => readFileSync(join(statusD, name), 'utf8').trimEnd());
    const adminDir = join(work, 'admin');
    mkdirSync(join(adminDir, 'updates'), { recursive: true });
    writeFileSync(join(adminDir, 'status'), `${stanzas.join('\n\n')}\n`);
    expect(packages?.databases).toEqual(['var/lib/dpkg/status.d']);
    expect(packages?.packages.map((p) => `${p.name} ${p.version} ${p.architecture}`).sort()).toEqual(
      dpkgQuery(adminDir),
    );
    expect(packages?.packages.map((p) => p.name)).toContain('libc6');
  });

  it("reads a Debian status file as dpkg-query reads this machine's", () => {
    const packages = dpkgPackages(readFileSync('/var/lib/dpkg/status', 'utf8'), 'dpkg');
    expect(packages.map((p) => `${p.name} ${p.version} ${p.architecture}`).sort()).toEqual(
      dpkgQuery('/var/lib/dpkg'),
    );
  });

  it("reads Alpine's installed database (P, V and A lines of each record)", () => {
    const text = [
      'C:Q1abc=',
      'P:musl',
      'V:1.2.5-r0',
      'A:x86_64',
      'S:408340',
      'F:lib',
      'R:ld-musl-x86_64.so.1',
      '',
      'P:busybox',
      'V:1.36.1-r29',
      'A:x86_64',
      'T:Size optimized toolbox',
      '',
    ].join('\n');
    expect(apkPackages(text)).toEqual([
      { name: 'musl', version: '1.2.5-r0', architecture: 'x86_64', source: 'apk' },
      { name: 'busybox', version: '1.36.1-r29', architecture: 'x86_64', source: 'apk' },
    ]);
  });

  it('is unknown for a manifest with no dump folder beside it', async () => {
    const lone = join(work, 'lone.json');
    writeFileSync(lone, readFileSync(`${folder}.json`));
    const packages = await withTarget(lone, {}, (target) => readPackages(imageFiles(target)));
    expect(packages).toBeNull();
  });
});
