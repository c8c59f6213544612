import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffTargets } from '../../src/inspect/diff-report.js';
import { formatDiffText } from '../../src/inspect/format-diff-text.js';
import { apkRoots } from '../support/apk-roots.js';

// Engine-free: two Alpine-like roots whose apk databases the test writes, with the files they name.
let work: string;
let a: string;
let b: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dc-package-file-diff-'));
  ({ a, b } = apkRoots(work));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('package file changes', () => {
  it('diff gives each changed package the paths that changed with it; an unchanged package is left out', async () => {
    const diff = await diffTargets(a, b);
    expect(diff.packageFiles).toEqual([
      { package: 'musl', added: [], removed: [], changed: ['lib/ld-musl-x86_64.so.1'] },
      // Its folder goes with it: F: lines claim folders too.
      { package: 'scanelf', added: [], removed: ['usr/bin', 'usr/bin/scanelf'], changed: [] },
      { package: 'zlib', added: ['lib/libz.so.1'], removed: [], changed: [] },
    ]);
    expect(diff.changed.map((c) => c.path)).toContain('etc/securetty');
    const text = formatDiffText(diff);
    expect(text).toContain(
      [
        'Files by package',
        '  musl: 0 added, 0 removed, 1 changed',
        '    ~ /lib/ld-musl-x86_64.so.1',
        '  scanelf: 0 added, 2 removed, 0 changed',
        '    - /usr/bin',
        '    - /usr/bin/scanelf',
        '  zlib: 1 added, 0 removed, 0 changed',
        '    + /lib/libz.so.1',
      ].join('\n'),
    );
  });
});
