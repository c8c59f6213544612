import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { runCli } from '../support/cli.js';
import { stagingLeftovers } from '../support/leftovers.js';

// A full disk under the fast method (test/cli/extract-errors.test.ts does the article method): the output
// on a 9 MiB tmpfs holds the 2 MB static image but not the 15 MB base-nossl one.

let work: string;
let mountPoint: string;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('This test mounts a small tmpfs and needs root.');
  work = await mkdtemp(join(tmpdir(), 'dc-disk-full-'));
  mountPoint = join(work, 'small-disk');
  await mkdir(mountPoint);
  await execa('mount', ['-t', 'tmpfs', '-o', 'size=9m', 'tmpfs', mountPoint]);
});

afterAll(async () => {
  if (mountPoint) await execa('umount', [mountPoint], { reject: false });
  await rm(work, { recursive: true, force: true });
});

describe('fast method on a full disk', () => {
  it('says "no space left", leaves no staging or spill folder, and keeps the previous output with --force', async () => {
    const output = join(mountPoint, 'dump');
    const fast = ['--method', 'fast', '--pull', 'never', '-o', output];
    const first = await runCli(['extract', TEST_IMAGES.staticNonroot, ...fast]);
    expect(first.exitCode, String(first.stderr)).toBe(0);
    const listing = async () => (await execa('find', [output, '-printf', '%p %s %m %T@\n'])).stdout;
    const before = await listing();

    const result = await runCli(['extract', TEST_IMAGES.baseNosslNonroot, ...fast, '--force']);
    const stderr = String(result.stderr);
    expect(result.exitCode, stderr).toBe(1);
    const errors = stderr.split('\n').filter((line) => line.startsWith('error:'));
    expect(errors, stderr).toHaveLength(1);
    expect(errors[0]).toMatch(/no space left on device/i);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(await stagingLeftovers(mountPoint)).toEqual([]);
    expect(await listing()).toBe(before);
  });
});
