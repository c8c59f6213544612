import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { modeString, octalMode } from '../../src/inspect/mode-string.js';

const work = mkdtempSync(join(tmpdir(), 'dc-mode-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('modeString', () => {
  it('prints what stat -c %A prints, setuid, setgid and sticky included', () => {
    const modes = [
      0o000, 0o644, 0o755, 0o4755, 0o4644, 0o2755, 0o2644, 0o1777, 0o1776, 0o6755, 0o7000, 0o777,
    ];
    for (const [index, mode] of modes.entries()) {
      const file = join(work, `f${index}`);
      const dir = join(work, `d${index}`);
      writeFileSync(file, '');
      mkdirSync(dir);
      chmodSync(file, mode);
      chmodSync(dir, mode);
      const [fileMode, dirMode] = execFileSync('stat', ['-c', '%A', file, dir], { encoding: 'utf8' })
        .trim()
        .split('\n');
      expect(modeString('file', mode), octalMode(mode)).toBe(fileMode);
      expect(modeString('dir', mode), octalMode(mode)).toBe(dirMode);
    }
  });
});
