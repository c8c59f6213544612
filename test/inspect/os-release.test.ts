import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { imageFiles } from '../../src/inspect/image-files.js';
import { withTarget } from '../../src/inspect/load-target.js';
import { parseOsRelease, readOsRelease } from '../../src/inspect/os-release.js';
import { dumpImage } from './dumps.js';

let work: string;
let folder: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dc-os-'));
  ({ folder } = await dumpImage(TEST_IMAGES.staticNonroot, work, 'static'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('os-release', () => {
  it('follows /etc/os-release -> ../usr/lib/os-release inside the image and reads "Distroless"', async () => {
    const os = await withTarget(folder, {}, (target) => readOsRelease(imageFiles(target)));
    expect(os).toMatchObject({
      path: 'usr/lib/os-release',
      name: 'Distroless',
      id: 'debian',
      versionId: '12',
    });
  });

  it('unquotes values exactly as sh does when it sources the file', () => {
    const text = [
      'PLAIN=value',
      'DOUBLE="two words"',
      "SINGLE='it''s \"raw\" $HOME'",
      'ESCAPED="a \\"quote\\" and \\\\ and \\$x and \\n"',
      'BARE=back\\ slash',
      'EMPTY=',
      '# COMMENT=no',
      'TRAILING="x" # comment',
    ].join('\n');
    const file = join(work, 'os-release');
    writeFileSync(file, `${text}\n`);
    const keys = ['PLAIN', 'DOUBLE', 'SINGLE', 'ESCAPED', 'BARE', 'EMPTY', 'TRAILING'];
    const script = `. "$1"; ${keys.map((key) => `printf '%s\\0' "$${key}"`).join('; ')}`;
    const values = execFileSync('sh', ['-c', script, 'sh', file], { encoding: 'utf8' })
      .split('\0')
      .slice(0, -1);
    const parsed = parseOsRelease(text);
    expect(keys.map((key) => parsed[key])).toEqual(values);
    expect(parsed.COMMENT).toBeUndefined();
  });
});
