import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { ensureSparseImage } from '../support/sparse-image.js';

// docker save of a 2 GiB layer: the engine copies the layer before it sends the first byte, so the request
// is silent for seconds. ^C then must end the request at once, not when the engine starts sending.

let work: string;
let image: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-save-interrupt-'));
  image = await ensureSparseImage();
}, 600_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

it('SIGINT while docker save is still silent exits 130 within two seconds and leaves nothing', async () => {
  const child = runCli(['extract', image, '--method', 'fast', '--pull', 'never', '-o', join(work, 'out')]);
  let stderr = '';
  let sentAt: number | undefined;
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (sentAt === undefined && stderr.includes('copying')) {
      sentAt = -1;
      // Well inside the silence: the engine takes far longer than this to copy 2 GiB.
      setTimeout(() => {
        sentAt = performance.now();
        child.kill('SIGINT');
      }, 1000);
    }
  });
  const result = await child;
  const took = performance.now() - (sentAt ?? Number.NaN);
  expect(sentAt, stderr).toBeGreaterThan(0);
  // Still silent when interrupted: no layer had begun.
  expect(stderr).not.toContain('applying layer');
  expect(result.exitCode, stderr).toBe(130);
  expect(took, stderr).toBeLessThan(2000);
  // No staging folder, no spill folder, no output.
  expect(await readdir(work)).toEqual([]);
}, 600_000);
