import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { runCli } from '../support/cli.js';
import { leftovers, stagingLeftovers, testLabel } from '../support/leftovers.js';

const run = promisify(execFile);
// Big enough that the build's COPY and the copy out each take a while, so a signal lands inside them.
const BIG = 'distroless-contents-test/big:latest';
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-signals-'));
  const exists = await run('docker', ['image', 'inspect', BIG]).then(
    () => true,
    () => false,
  );
  if (!exists) {
    const context = join(work, 'big');
    await mkdir(context);
    await writeFile(
      join(context, 'Dockerfile'),
      `FROM ${TEST_IMAGES.shell}\nRUN for i in 1 2 3 4 5 6; do head -c 60000000 /dev/urandom > /blob$i; done\n`,
    );
    await run('docker', [
      'build',
      '-q',
      '--label',
      'dev.distroless-contents.test=fixture',
      '-t',
      BIG,
      context,
    ]);
  }
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
      BIG,
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
