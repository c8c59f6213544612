import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { duTable, folderSizes } from '../../src/inspect/du.js';
import { scanFolder } from '../../src/inspect/scan-folder.js';
import { summarize } from '../../src/inspect/summary.js';
import type { Manifest } from '../../src/manifest.js';
import { dumpImage } from './dumps.js';

let work: string;
let folder: string;
let manifest: Manifest;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dc-du-'));
  ({ folder, manifest } = await dumpImage(TEST_IMAGES.staticNonroot, work, 'static'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** `du -B1 -d N` (or with --apparent-size) on the dump, keyed by manifest path. */
function du(args: readonly string[]): Map<string, number> {
  const out = execFileSync('du', [...args, '.'], { cwd: folder, encoding: 'utf8' });
  return new Map(
    out
      .trim()
      .split('\n')
      .map((line) => {
        const [size, path] = line.split('\t') as [string, string];
        return [path === '.' ? '' : path.slice(2), Number(size)];
      }),
  );
}

/** Bytes of regular files below each folder, from find: the oracle for file-content sizes. */
function findFileBytes(depth: number): Map<string, number> {
  const out = execFileSync('find', ['.', '-type', 'f', '-printf', '%P\\t%s\\n'], {
    cwd: folder,
    encoding: 'utf8',
  });
  const sizes = new Map<string, number>();
  for (const line of out.trim().split('\n')) {
    const [path, size] = line.split('\t') as [string, string];
    const parts = path.split('/');
    for (let level = 1; level < parts.length && level <= depth; level++) {
      const prefix = parts.slice(0, level).join('/');
      sizes.set(prefix, (sizes.get(prefix) ?? 0) + Number(size));
    }
  }
  return sizes;
}

describe('du table of the static look-alike', () => {
  it('measures what du -B1 -d 3 measures on a scanned dump, folder by folder', async () => {
    const { entries } = await scanFolder(folder);
    const expected = du(['-B1', '-d', '3']);
    const rootBlocks = expected.get('') as number;
    expected.delete('');
    const sizes = folderSizes(entries, 3);
    expect(new Map([...sizes].map(([path, size]) => [path, size.diskBytes]))).toEqual(expected);
    // du's total includes the root folder's own blocks, which is not an entry.
    const rootOwnBlocks = Number(execFileSync('stat', ['-c', '%b', '.'], { cwd: folder, encoding: 'utf8' }));
    expect(summarize(entries).diskBytes).toBe(rootBlocks - rootOwnBlocks * 512);
  });

  it('counts file bytes as find does, from the manifest alone, and the same from a scan', async () => {
    const expected = findFileBytes(3);
    const fromManifest = folderSizes(manifest.entries, 3);
    const bytes = new Map(
      [...fromManifest].filter(([, s]) => s.bytes > 0).map(([path, s]) => [path, s.bytes]),
    );
    expect(bytes).toEqual(expected);
    const { entries } = await scanFolder(folder);
    expect(summarize(entries).apparentBytes).toBe(summarize(manifest.entries).apparentBytes);
  });

  it('puts /usr/share/zoneinfo first below /usr/share, with most of the image, as in the article', () => {
    const table = duTable(manifest.entries, { depth: 3, top: 5 });
    expect(table.rows.map((row) => row.path)).toEqual([
      'usr',
      'usr/share',
      'usr/share/zoneinfo',
      expect.any(String),
      expect.any(String),
    ]);
    const zoneinfo = table.rows[2];
    expect(zoneinfo?.share).toBeGreaterThan(0.5);
    // du -h counts blocks: the article's 3.8M of 4.9M. The manifest's 4 KiB estimate must land near du's own count.
    const measured = du(['-B1', '-d', '3']).get('usr/share/zoneinfo') as number;
    expect(Math.abs((zoneinfo?.diskBytes ?? 0) - measured) / measured).toBeLessThan(0.02);
    expect(table.omitted).toBeGreaterThan(0);
  });

  it('lists every folder down to the depth with --top 0, as du -d does', () => {
    const table = duTable(manifest.entries, { depth: 2, top: 0 });
    const expected = [...du(['-B1', '-d', '2']).keys()].filter((path) => path !== '').sort();
    expect(table.rows.map((row) => row.path).sort()).toEqual(expected);
    expect(table.omitted).toBe(0);
  });
});
