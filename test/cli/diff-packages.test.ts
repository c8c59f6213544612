import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiffReport } from '../../src/inspect/diff-report.js';
import { apkRoots } from '../support/apk-roots.js';
import { runCli } from '../support/cli.js';

let work: string;
let a: string;
let b: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dc-diff-packages-'));
  ({ a, b } = apkRoots(work));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm run diff -- A B: files by package', () => {
  it('lists, under each changed package, the paths that changed with it; --json holds them as packageFiles', async () => {
    const text = await runCli(['diff', a, b]);
    expect(text.exitCode).toBe(1);
    expect(String(text.stdout)).toContain(
      [
        'Packages',
        '  + zlib 1.3.1-r1 (x86_64)',
        '  - scanelf 1.3.7-r2 (x86_64)',
        '  ~ musl 1.2.4-r2 -> 1.2.5-r0 (x86_64)',
        '',
        'Files by package',
        '  musl: 0 added, 0 removed, 1 changed',
        '    ~ /lib/ld-musl-x86_64.so.1',
        '  scanelf: 0 added, 2 removed, 0 changed',
        '    - /usr/bin',
        '    - /usr/bin/scanelf',
        '  zlib: 1 added, 0 removed, 0 changed',
        '    + /lib/libz.so.1',
        '',
      ].join('\n'),
    );
    const json = await runCli(['diff', a, b, '--json']);
    const diff = JSON.parse(String(json.stdout)) as DiffReport;
    expect(diff.packageFiles?.map((p) => p.package)).toEqual(['musl', 'scanelf', 'zlib']);
  });
});
