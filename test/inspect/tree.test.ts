import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { treeText } from '../../src/inspect/format-text.js';
import { treeListing } from '../../src/inspect/tree.js';
import type { Manifest } from '../../src/manifest.js';
import { dumpImage } from './dumps.js';

let work: string;
const dumps: Record<string, { folder: string; manifest: Manifest }> = {};
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dc-tree-'));
  dumps.static = await dumpImage(TEST_IMAGES.staticNonroot, work, 'static');
  dumps.edge = await dumpImage(TEST_IMAGES.edge, work, 'edge');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** tree(1) itself (Debian's tree package), in byte order, without its footer. */
function realTree(folder: string, depth: number, flags: readonly string[] = []): string[] {
  const out = execFileSync(
    'tree',
    ['-a', '-n', '--charset=utf-8', '--noreport', '-L', String(depth), ...flags, '.'],
    {
      cwd: folder,
      encoding: 'utf8',
      env: { ...process.env, LC_ALL: 'C.UTF-8' },
    },
  );
  // tree 2 indents with no-break spaces; ours are plain spaces.
  return out
    .replace(/\u00a0/g, ' ')
    .trimEnd()
    .split('\n');
}

/**
 * Deliberately unlike tree(1), which prints every name raw: a name with a quote or a backslash is quoted as
 * bash's $'...', so a backslash in what the report prints is always an escape.
 */
function asQuoted(lines: string[]): string[] {
  const raw = 'quote\'double"dollar$backslash\\backtick`star*question?';
  const quoted = "$'quote\\'double\"dollar$backslash\\\\backtick`star*question?'";
  return lines.map((line) => (line.endsWith(raw) ? line.slice(0, -raw.length) + quoted : line));
}

describe('tree listing', () => {
  it.each([
    ['static', 3],
    ['static', 1],
    ['edge', 50],
  ])('of the %s dump to depth %i is line for line what tree -a -L prints on the dump', (name, depth) => {
    const { folder, manifest } = dumps[name] as { folder: string; manifest: Manifest };
    const lines = treeText(treeListing(manifest.entries, depth), false);
    expect(lines.slice(0, lines.indexOf(''))).toEqual(asQuoted(realTree(folder, depth)));
  });

  it("with owners shows each entry's mode and numeric owner from the manifest, as tree -p shows the mode", () => {
    const { folder, manifest } = dumps.static as { folder: string; manifest: Manifest };
    const lines = treeText(treeListing(manifest.entries, 2), true);
    const ours = lines.slice(1, lines.indexOf('')).map((line) => line.replace(/ \d+ +\d+ *\]/, ']'));
    // tree -p also prints the root's mode on its first line; ours prints `.` there.
    expect(ours).toEqual(realTree(folder, 2, ['-p']).slice(1));
    expect(lines).toContain('│   └── [drwx------ 65532 65532]  nonroot');
  });

  it('counts what it lists: folders, and everything else', () => {
    const { folder, manifest } = dumps.static as { folder: string; manifest: Manifest };
    const listing = treeListing(manifest.entries, 100);
    const count = (type: string) =>
      Number(
        execFileSync('sh', ['-c', `find . -mindepth 1 ${type} | wc -l`], { cwd: folder, encoding: 'utf8' }),
      );
    expect(listing.directories).toBe(count('-type d'));
    expect(listing.others).toBe(count('! -type d'));
  });
});
