import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { runCli } from '../support/cli.js';
import { leftovers, stagingLeftovers, testLabel } from '../support/leftovers.js';

const run = promisify(execFile);
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-errors-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const base = ['--base', TEST_IMAGES.shell, '--pull', 'never'];

/** Every failure: one line on stderr, no stack trace, nothing left behind. */
async function expectCleanFailure(
  result: { exitCode?: number | undefined; stderr: unknown },
  exitCode: number,
  pattern: RegExp,
  label?: string,
) {
  const stderr = String(result.stderr).trim();
  const errorLines = stderr.split('\n').filter((line) => line.startsWith('error:'));
  expect(errorLines, stderr).toHaveLength(1);
  expect(errorLines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(result.exitCode, stderr).toBe(exitCode);
  expect(await stagingLeftovers(work)).toEqual([]);
  if (label) expect(await leftovers(label)).toEqual([]);
}

describe('usage errors exit 2 before anything touches Docker', () => {
  it.each([
    ['an image reference outside the grammar', ['alpine\nRUN id'], /Invalid image reference/],
    ['a reference with a space', ['alpine latest'], /Invalid image reference/],
    ['a reference with $', ['alpine:$TAG'], /Invalid image reference/],
    ['a bad --base', ['alpine', '--base', 'a"b'], /Invalid image reference/],
    [
      'an unknown flag',
      ['alpine', '--frobnicate'],
      /Unknown option --frobnicate \(see npm run \w+ -- --help\)$/,
    ],
    [
      'a flag without its value',
      ['alpine', '--output'],
      /--output needs a value; one that starts with - goes as --output=VALUE \(see npm run extract -- --help\)$/,
    ],
    ['a bad --pull', ['alpine', '--pull', 'sometimes'], /Invalid --pull "sometimes"/],
    ['a bad --platform', ['alpine', '--platform', 'linux'], /Invalid platform/],
    ['no image', [], /Expected an image, got none/],
    [
      'two images with one --output',
      ['a', 'b'],
      /--output names one image's output; with several images use --output-dir/,
    ],
  ])('%s', async (_name, args, pattern) => {
    // An engine that cannot answer proves the check happens first: reaching it would change the error.
    const result = await runCli(['extract', ...args, '-o', join(work, 'never')], {
      env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
    });
    await expectCleanFailure(result, 2, pattern);
    expect(await readdir(work)).not.toContain('never');
  });
});

describe('runtime errors exit 1 with one clear line and leave nothing behind', () => {
  it('names the socket and how to start an engine when none answers', async () => {
    const result = await runCli(['extract', TEST_IMAGES.staticNonroot, ...base, '-o', join(work, 'x')], {
      env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
    });
    await expectCleanFailure(
      result,
      1,
      /No Docker engine answers at unix:\/\/\/nonexistent\/docker\.sock \(DOCKER_HOST\) .*start one .* there, or fix DOCKER_HOST\.$/,
    );
  });

  it('says that what answers is not an engine when another HTTP server holds the port', async () => {
    // A real HTTP server on loopback that is not an engine: a wrong port in DOCKER_HOST.
    const server = createServer((_request, response) => {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const result = await runCli(['extract', TEST_IMAGES.staticNonroot, ...base, '-o', join(work, 'x')], {
        env: { DOCKER_HOST: `tcp://127.0.0.1:${port}` },
      });
      await expectCleanFailure(
        result,
        1,
        new RegExp(
          `^error: What answers at tcp://127\\.0\\.0\\.1:${port} \\(DOCKER_HOST\\) is not a Docker engine \\(HTTP 404 to GET /_ping\\); point DOCKER_HOST at an engine\\.$`,
        ),
      );
    } finally {
      server.close();
    }
  });

  it('refuses a DOCKER_HOST that is not a URL instead of guessing tcp://', async () => {
    const result = await runCli(['extract', TEST_IMAGES.staticNonroot, ...base, '-o', join(work, 'x')], {
      env: { DOCKER_HOST: 'bogus' },
    });
    await expectCleanFailure(result, 1, /^error: Docker host "bogus" is not a URL: use unix:\/\/\/path/);
  });

  it('names the image when it is missing and --pull never forbids pulling', async () => {
    const result = await runCli([
      'extract',
      'distroless-contents-test/missing:1',
      ...base,
      '-o',
      join(work, 'x'),
    ]);
    await expectCleanFailure(
      result,
      1,
      /Image distroless-contents-test\/missing:1 is not in the local engine.*--pull/,
    );
  });

  it('prints the failure as JSON on stdout with --json, and the error line on stderr', async () => {
    const result = await runCli([
      'extract',
      'distroless-contents-test/missing:1',
      ...base,
      '-o',
      join(work, 'x'),
      '--json',
    ]);
    await expectCleanFailure(result, 1, /is not in the local engine/);
    expect(JSON.parse(String(result.stdout))).toEqual({
      status: 'failed',
      reference: 'distroless-contents-test/missing:1',
      error: expect.stringMatching(/^Image distroless-contents-test\/missing:1 is not in the local engine/),
      code: 'IMAGE_NOT_FOUND',
      exitCode: 1,
    });
  });

  it("gives the daemon's reason when a pull fails", async () => {
    const label = testLabel();
    const result = await runCli([
      'extract',
      'registry.invalid/none/such:1',
      '--base',
      TEST_IMAGES.shell,
      '-o',
      join(work, 'x'),
      '--label',
      label.arg,
    ]);
    await expectCleanFailure(
      result,
      1,
      /Could not pull registry\.invalid\/none\/such:1: .*(no such host|lookup|dial)/i,
      label.value,
    );
  });

  it('refuses a base image without /bin/sh and removes the built image', async () => {
    const label = testLabel();
    const result = await runCli([
      'extract',
      TEST_IMAGES.edge,
      '--base',
      TEST_IMAGES.staticNonroot,
      '--pull',
      'never',
      '-o',
      join(work, 'x'),
      '--label',
      label.arg,
    ]);
    await expectCleanFailure(
      result,
      1,
      /Base image distroless-contents-test\/static:nonroot has no \/bin\/sh/,
      label.value,
    );
  });

  it("fails on a build error with the daemon's own message", async () => {
    // A base whose /distroless-contents is a file: COPY into it fails inside the build stream (HTTP 200).
    const bad = 'distroless-contents-test/file-in-the-way:latest';
    const context = join(work, 'bad-base');
    await mkdir(context, { recursive: true });
    await writeFile(
      join(context, 'Dockerfile'),
      `FROM ${TEST_IMAGES.shell}\nRUN echo x > /distroless-contents\n`,
    );
    await run('docker', [
      'build',
      '-q',
      '--label',
      'dev.distroless-contents.test=fixture',
      '-t',
      bad,
      context,
    ]);
    const label = testLabel();
    const result = await runCli([
      'extract',
      TEST_IMAGES.edge,
      '--base',
      bad,
      '--pull',
      'never',
      '-o',
      join(work, 'x'),
      '--label',
      label.arg,
    ]);
    await expectCleanFailure(result, 1, /docker build failed: .*(not a directory|cannot copy)/i, label.value);
    await run('docker', ['image', 'rm', bad]);
  });

  it('refuses an output that is a file', async () => {
    const file = join(work, 'a-file');
    await writeFile(file, 'keep me');
    const result = await runCli(['extract', TEST_IMAGES.staticNonroot, ...base, '-o', file]);
    await expectCleanFailure(result, 2, /exists and is not a folder/);
    expect(await readFile(file, 'utf8')).toBe('keep me');
  });

  it('never touches a non-empty output without --force, and replaces it whole with --force', async () => {
    const output = join(work, 'existing');
    await mkdir(output);
    await writeFile(join(output, 'old.txt'), 'old');
    const refused = await runCli(['extract', TEST_IMAGES.staticNonroot, ...base, '-o', output]);
    await expectCleanFailure(refused, 1, /is not empty; pass --force/);
    expect(await readdir(output)).toEqual(['old.txt']);

    const forced = await runCli(['extract', TEST_IMAGES.staticNonroot, ...base, '-o', output, '--force']);
    expect(forced.exitCode, String(forced.stderr)).toBe(0);
    expect(await readdir(output)).not.toContain('old.txt');
    expect(await readdir(output)).toContain('etc');
    expect(await stagingLeftovers(work)).toEqual([]);
  });

  it('reports a full disk, leaves no staging folder and keeps the previous output with --force', async () => {
    if (process.getuid?.() !== 0) throw new Error('This test mounts a small tmpfs and needs root.');
    const mountPoint = join(work, 'small-disk');
    await mkdir(mountPoint);
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=9m', 'tmpfs', mountPoint]);
    try {
      const output = join(mountPoint, 'dump');
      const first = await runCli(['extract', TEST_IMAGES.staticNonroot, ...base, '-o', output]);
      expect(first.exitCode, String(first.stderr)).toBe(0);
      const before = (await execa('find', [output, '-printf', '%p %s %m\n'])).stdout;

      const result = await runCli([
        'extract',
        TEST_IMAGES.baseNosslNonroot,
        ...base,
        '-o',
        output,
        '--force',
      ]);
      expect(String(result.stderr)).toMatch(/^error: No space left on device/m);
      expect(result.exitCode).toBe(1);
      expect(await stagingLeftovers(mountPoint)).toEqual([]);
      expect((await execa('find', [output, '-printf', '%p %s %m\n'])).stdout).toBe(before);
    } finally {
      await execa('umount', [mountPoint]);
    }
  });
});
