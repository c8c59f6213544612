import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { UsageError } from '../../src/errors.js';
import { readAccounts } from '../../src/inspect/accounts.js';
import { imageFiles } from '../../src/inspect/image-files.js';
import { withTarget } from '../../src/inspect/load-target.js';
import type { Manifest } from '../../src/manifest.js';
import { dumpImage } from './dumps.js';

let work: string;
let folder: string;
let manifestPath: string;
let manifest: Manifest;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dc-load-'));
  ({ folder, manifestPath, manifest } = await dumpImage(TEST_IMAGES.staticNonroot, work, 'static'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('withTarget', () => {
  it('reads a dump folder through the manifest beside it, with the true owners and the image config', async () => {
    const target = await withTarget(folder, {}, async (t) => t);
    expect(target).toMatchObject({ kind: 'folder', manifestPath, folder, ownersFrom: 'manifest' });
    expect(target.entries).toEqual(manifest.entries);
    expect(target.image).toEqual(manifest.image);
  });

  it('scans a dump folder with no manifest beside it, and says the owners are as on disk', async () => {
    const alone = join(work, 'alone');
    const copy = await withTarget(folder, { manifest: manifestPath }, async (t) => t.entries.length);
    await cp(folder, alone, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    const target = await withTarget(alone, {}, async (t) => t);
    expect(target).toMatchObject({ kind: 'folder', manifestPath: null, ownersFrom: 'disk', image: null });
    expect(target.entries.length).toBe(copy);
    expect(target.notes.join(' ')).toMatch(/owners are as on disk/);
  });

  it('reads a manifest file, and small files from the dump folder beside it', async () => {
    const users = await withTarget(manifestPath, {}, async (t) => {
      expect(t).toMatchObject({ kind: 'manifest', folder, ownersFrom: 'manifest' });
      return (await readAccounts(imageFiles(t)))?.users.map((u) => u.name);
    });
    expect(users).toEqual(['root', 'nobody', 'nonroot']);
  });

  it('refuses to read a file whose content is not what the manifest says (a stale dump beside it)', async () => {
    const other = join(work, 'other');
    await cp(folder, other, { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(other, 'etc/passwd'), 'intruder:x:0:0::/:/bin/sh\n');
    writeFileSync(`${other}.json`, readFileSync(manifestPath));
    const { accounts, problems } = await withTarget(`${other}.json`, {}, async (t) => {
      const files = imageFiles(t);
      return { accounts: await readAccounts(files), problems: files.problems };
    });
    expect(accounts?.users).toEqual([]);
    expect(problems.join(' ')).toMatch(/etc\/passwd .* differs from the manifest/);
  });

  it('extracts an image into a temporary folder and removes it afterwards', async () => {
    let seen: string | null = null;
    const count = await withTarget(
      TEST_IMAGES.staticNonroot,
      { base: TEST_IMAGES.shell, pull: 'never' },
      async (t) => {
        seen = t.folder;
        expect(t).toMatchObject({ kind: 'image', ownersFrom: 'manifest', manifestPath: null });
        expect(existsSync(join(t.folder as string, 'etc/passwd'))).toBe(true);
        return t.entries.length;
      },
    );
    expect(count).toBe(manifest.entries.length);
    expect(seen).not.toBeNull();
    expect(existsSync(seen as unknown as string)).toBe(false);
  });

  it.each([
    ['a missing path', './no/such/folder', /No such file or folder/],
    ['a missing manifest', 'missing.json', /No such file or folder/],
    ['not an image reference', 'Not A Reference', /Invalid image reference/],
  ])('refuses %s with a usage error', async (_name, spec, message) => {
    await expect(withTarget(spec, {}, async () => 0)).rejects.toThrow(message);
    await expect(withTarget(spec, {}, async () => 0)).rejects.toBeInstanceOf(UsageError);
  });

  it('says of a --path dump, read by folder or by manifest, that it holds only those paths', async () => {
    const partial = join(work, 'partial.json');
    writeFileSync(partial, JSON.stringify({ ...manifest, paths: ['/etc', '/usr/share/zoneinfo'] }));
    const note =
      'Holds only /etc, /usr/share/zoneinfo of the image (extract --path): totals, packages and findings are of those paths alone.';
    expect((await withTarget(partial, {}, async (t) => t)).notes).toContain(note);
    expect((await withTarget(folder, { manifest: partial }, async (t) => t)).notes).toContain(note);
    expect((await withTarget(folder, {}, async (t) => t)).notes).not.toContain(note);
  });

  it('refuses a file that is not a manifest', async () => {
    const bogus = join(work, 'bogus.json');
    writeFileSync(bogus, '{"hello": 1}');
    await expect(withTarget(bogus, {}, async () => 0)).rejects.toThrow(
      /is not a distroless-contents manifest/,
    );
    writeFileSync(bogus, 'not json');
    await expect(withTarget(bogus, {}, async () => 0)).rejects.toThrow(/Cannot read manifest .*bogus.json/);
  });
});
