import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { ensureBigImage } from '../support/big-image.js';
import { runCli } from '../support/cli.js';
import { leftovers, stagingLeftovers, testLabel } from '../support/leftovers.js';

let work: string;
let big: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-signals-'));
  big = await ensureBigImage();
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe.each([
  ['SIGINT', 130, 'building'],
  ['SIGTERM', 143, 'building'],
  ['SIGINT', 130, 'copying'],
  ['SIGTERM', 143, 'copying'],
] as const)('%s during %s', (signal, exitCode, step) => {
  it(`exits ${exitCode} and leaves no container, image, staging folder or output`, async () => {
    const label = testLabel();
    const output = join(work, `out-${signal}-${step}`);
    const child = runCli([
      'extract',
      big,
      '--base',
      TEST_IMAGES.shell,
      '--pull',
      'never',
      '-o',
      output,
      '--label',
      label.arg,
    ]);
    let sent = false;
    child.stderr?.on('data', (chunk: Buffer) => {
      if (!sent && chunk.toString().includes(step)) {
        sent = true;
        child.kill(signal);
      }
    });
    const result = await child;
    expect(sent, String(result.stderr)).toBe(true);
    expect(result.exitCode, String(result.stderr)).toBe(exitCode);
    expect(String(result.stderr)).toContain(`error: Interrupted by ${signal}`);
    expect(await leftovers(label.value)).toEqual([]);
    expect(await stagingLeftovers(work)).toEqual([]);
    expect(await readdir(work)).not.toContain(`out-${signal}-${step}`);
  });
});
