import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { RUN_LABEL, TOOL_LABEL } from '../../src/labels.js';
import { ensureBigImage } from '../support/big-image.js';
import { runCli } from '../support/cli.js';
import { docker, leftovers, stagingLeftovers, TEST_LABEL, testLabel } from '../support/leftovers.js';

let work: string;
let big: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-cleanup-'));
  big = await ensureBigImage();
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** SIGKILL gives the tool no chance to clean up: the container, built image and staging folder stay. */
async function killedMidCopy(dir: string): Promise<string> {
  const label = testLabel();
  const child = runCli([
    'extract',
    big,
    '--base',
    TEST_IMAGES.shell,
    '--pull',
    'never',
    '-o',
    join(dir, 'out'),
    '--label',
    label.arg,
  ]);
  child.stderr?.on('data', (chunk: Buffer) => {
    if (chunk.toString().includes('copying')) child.kill('SIGKILL');
  });
  const result = await child;
  expect(result.signal, String(result.stderr)).toBe('SIGKILL');
  expect((await leftovers(label.value)).length).toBeGreaterThan(0);
  expect(await stagingLeftovers(dir)).toHaveLength(1);
  return label.value;
}

/** A process id that is certainly not running any more. */
async function deadPid(): Promise<number> {
  const child = execa('true');
  await child;
  return child.pid as number;
}

describe('leftovers of a run killed with SIGKILL mid-copy', () => {
  it('are removed by npm run cleanup, which reports them', async () => {
    const dir = join(work, 'by-cleanup');
    await mkdir(dir);
    const label = await killedMidCopy(dir);
    const result = await runCli(['cleanup', dir]);
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(String(result.stdout)).toMatch(/removed container [0-9a-f]{12}/);
    expect(String(result.stdout)).toMatch(/removed image [0-9a-f]{12}/);
    expect(String(result.stdout)).toContain('removed staging folder');
    expect(await leftovers(label)).toEqual([]);
    expect(await stagingLeftovers(dir)).toEqual([]);
  });

  it('are removed by the next run into the same folder', async () => {
    const dir = join(work, 'by-next-run');
    await mkdir(dir);
    const label = await killedMidCopy(dir);
    const next = await runCli([
      'extract',
      TEST_IMAGES.staticNonroot,
      '--base',
      TEST_IMAGES.shell,
      '--pull',
      'never',
      '-o',
      join(dir, 'out'),
    ]);
    expect(next.exitCode, String(next.stderr)).toBe(0);
    expect(String(next.stderr)).toMatch(
      /removed what an interrupted run left: 1 containers, 1 images, 1 staging folders/,
    );
    expect(await leftovers(label)).toEqual([]);
    expect(await stagingLeftovers(dir)).toEqual([]);
  });
});

describe('npm run cleanup', () => {
  it("leaves alone what a live run on this host is using, and removes a dead run's container", async () => {
    const value = testLabel().value;
    const make = async (pid: number) =>
      docker.createContainer({
        Image: TEST_IMAGES.shell,
        Cmd: ['true'],
        Labels: {
          [TOOL_LABEL]: 'distroless-contents',
          [RUN_LABEL]: `${hostname()}/${pid}/x`,
          [TEST_LABEL]: value,
        },
      });
    const live = await make(process.pid);
    const dead = await make(await deadPid());
    const dir = join(work, 'live');
    await mkdir(join(dir, `.distroless-contents-staging-out-${process.pid}-0123abcd`), { recursive: true });
    try {
      const result = await runCli(['cleanup', dir, '--json']);
      expect(result.exitCode, String(result.stderr)).toBe(0);
      const report = JSON.parse(String(result.stdout)) as { containers: string[]; folders: string[] };
      expect(report.containers).toContain(dead.id);
      expect(report.containers).not.toContain(live.id);
      expect(report.folders).toEqual([]);
      expect(await readdir(dir)).toHaveLength(1);
      expect(await leftovers(value)).toEqual([`container ${live.id}`]);
    } finally {
      await live.remove({ force: true });
    }
  });

  it('rejects an unknown flag with exit 2', async () => {
    const result = await runCli(['cleanup', '--everything']);
    expect(result.exitCode).toBe(2);
    expect(String(result.stderr)).toMatch(
      /^error: Unknown option --everything \(see npm run cleanup -- --help\)$/m,
    );
  });
});
