import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { ensureBigImage } from '../support/big-image.js';
import { runCli } from '../support/cli.js';
import { hostBridgeExists } from '../support/engine-bridge.js';
import { stagingLeftovers } from '../support/leftovers.js';
import { type OwnEngine, startOwnEngine } from './own-engine.js';

// The engine dies (SIGKILL) while the archive streams out of it: a clear error and nothing written.
// Each method gets an engine of its own, killed once and never restarted.

let work: string;
let big: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-engine-death-'));
  big = await ensureBigImage();
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe.each(['article', 'fast'] as const)('the engine killed during the %s method copy', (method) => {
  let engine: OwnEngine;

  beforeAll(async () => {
    engine = await startOwnEngine();
    await engine.copyImage(big);
    if (method === 'article') await engine.copyImage(TEST_IMAGES.shell);
  });

  afterAll(async () => {
    await engine?.remove();
  });

  it("leaves the main engine's docker0 bridge in place", async () => {
    expect(await hostBridgeExists()).toBe(true);
  });

  it('gives one clear error line, exit 1, and writes no output and no staging folder', async () => {
    const dir = join(work, method);
    await mkdir(dir);
    const child = runCli(
      [
        'extract',
        big,
        '--method',
        method,
        '--base',
        TEST_IMAGES.shell,
        '--pull',
        'never',
        '-o',
        join(dir, 'out'),
      ],
      { env: { DOCKER_HOST: engine.host, DOCKER_CONTEXT: '' } },
    );
    let stderrSoFar = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderrSoFar += chunk.toString();
    });
    // Mid-stream: the copy has begun and the first entries are on disk.
    let killed = false;
    const poll = setInterval(async () => {
      if (killed || !stderrSoFar.includes('copying')) return;
      const staging = (await stagingLeftovers(dir))[0];
      if (staging && (await readdir(join(dir, staging)).catch(() => [])).length > 0 && !killed) {
        killed = true;
        engine.kill();
      }
    }, 20);
    const result = await child.finally(() => clearInterval(poll));
    const stderr = String(result.stderr);
    expect(killed, stderr).toBe(true);
    expect(result.exitCode, stderr).toBe(1);
    expect(stderr).not.toMatch(/^\s+at /m);
    const errors = stderr.split('\n').filter((line) => line.startsWith('error:'));
    expect(errors, stderr).toHaveLength(1);
    // It says what broke (reading from the engine) and what to do.
    expect(errors[0]).toMatch(/engine|docker info/i);
    expect(await readdir(dir)).toEqual([]);
  });
});
