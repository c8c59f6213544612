import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { ensureBigImage } from '../support/big-image.js';
import { runCli } from '../support/cli.js';
import { stagingLeftovers } from '../support/leftovers.js';

// SIGKILL in the fast method's copy, whose debris (staging and spill folders) the next run or npm run
// cleanup removes. SIGINT and SIGTERM at every step, for each method, are in nothing-left.test.ts, which
// checks the engine's whole inventory.

let work: string;
let big: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-fault-signals-'));
  big = await ensureBigImage();
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Starts the CLI and sends `signal` once stderr shows `trigger` and `ready` holds; resolves to its result. */
async function interrupt(args: string[], trigger: string, signal: NodeJS.Signals, ready = () => true) {
  const child = runCli(args);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let sent = false;
  const poll = setInterval(() => {
    if (!sent && stderr.includes(trigger) && ready()) {
      sent = true;
      child.kill(signal);
    }
  }, 50);
  try {
    const result = await child;
    return { result, sent };
  } finally {
    clearInterval(poll);
  }
}

describe('SIGKILL during the fast method copy', () => {
  /** SIGKILL leaves the tool no chance: its staging and spill folders stay. */
  async function killedMidCopy(dir: string): Promise<void> {
    const { result, sent } = await interrupt(
      ['extract', big, '--method', 'fast', '--pull', 'never', '-o', join(dir, 'out')],
      'copying',
      'SIGKILL',
    );
    expect(sent && result.signal, String(result.stderr)).toBe('SIGKILL');
    expect((await stagingLeftovers(dir)).length).toBeGreaterThan(0);
  }

  it('leaves debris that npm run cleanup removes', async () => {
    const dir = join(work, 'fast-sigkill-cleanup');
    await mkdir(dir);
    await killedMidCopy(dir);
    const cleanup = await runCli(['cleanup', dir]);
    expect(cleanup.exitCode, String(cleanup.stderr)).toBe(0);
    expect(String(cleanup.stdout)).toContain('removed staging folder');
    expect(await readdir(dir)).toEqual([]);
  });

  it('leaves debris that the next run into the same folder removes', async () => {
    const dir = join(work, 'fast-sigkill-next');
    await mkdir(dir);
    await killedMidCopy(dir);
    const next = await runCli([
      'extract',
      TEST_IMAGES.staticNonroot,
      '--method',
      'fast',
      '--pull',
      'never',
      '-o',
      join(dir, 'out'),
    ]);
    expect(next.exitCode, String(next.stderr)).toBe(0);
    expect(String(next.stderr)).toMatch(/removed what an interrupted run left/);
    expect(await readdir(dir)).toEqual(['out']);
  });
});
