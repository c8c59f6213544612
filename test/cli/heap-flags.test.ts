import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

// Loaded before the CLI: when the process exits, it churns through short-lived objects with many
// survivors (what a layer tree's growth looks like to V8) and prints the young generation's size.
const PROBE = `
import { getHeapSpaceStatistics } from 'node:v8';
process.on('exit', () => {
  let kept = [];
  for (let i = 0; i < 2e6; i++) {
    kept.push({ i, name: 'x' + i });
    if (kept.length > 50000) kept = [];
  }
  const young = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
  process.stderr.write('young=' + young.space_size + '\\n');
});
`;

const youngOf = (stderr: string) => Number(/young=(\d+)/.exec(stderr)?.[1]);

describe('the CLI bounds the heap', () => {
  let dir: string;
  let probe: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'heap-flags-'));
    probe = join(dir, 'probe.mjs');
    await writeFile(probe, PROBE);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the young generation at its first size, where plain Node lets it grow', async () => {
    const plain = await execa(process.execPath, ['--import', probe, '-e', '']);
    const cli = await runCli(['--help'], { env: { NODE_OPTIONS: `--import ${probe}` } });
    expect(cli.exitCode).toBe(0);
    const plainYoung = youngOf(plain.stderr);
    const cliYoung = youngOf(String(cli.stderr));
    // Without the flag V8 grows the young generation to 32 MiB under this load; the CLI's stays at 1 MiB
    // per semi-space.
    expect(plainYoung).toBeGreaterThanOrEqual(16 * 2 ** 20);
    expect(cliYoung).toBeLessThanOrEqual(4 * 2 ** 20);
  });
});
