import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { DEFAULT_BASE } from '../../src/options.js';
import { TOOL_VERSION } from '../../src/version.js';
import { ROOT, runCli } from '../support/cli.js';
import { docker } from '../support/leftovers.js';

// What a newcomer meets first, through the CLI as a clone runs it: `npm run -s COMMAND -- ...` (the real npm),
// and the same entry point without npm for what has no script (--help alone, --version, help COMMAND). The
// installed bin's words are in test/package.test.ts.

function npmRun(command: string, args: readonly string[]) {
  return execa('npm', ['run', '-s', command, '--', ...args], {
    cwd: ROOT,
    reject: false,
    env: { NO_COLOR: '1' },
  });
}

describe('help and version', () => {
  it('--help alone is a short overview of the commands', async () => {
    const result = await runCli(['--help']);
    expect(result.exitCode).toBe(0);
    const lines = String(result.stdout).trimEnd().split('\n');
    expect(lines[0]).toBe('Usage: npm run COMMAND -- [options]');
    expect(lines.length).toBeLessThanOrEqual(15);
    for (const command of ['extract', 'report', 'diff', 'shell', 'cleanup']) {
      expect(lines.some((line) => line.startsWith(`  ${command} `))).toBe(true);
    }
    expect(lines.at(-1)).toBe(
      "Run npm run COMMAND -- --help for a command's options; --version prints the version.",
    );
  });

  it('--version prints the version', async () => {
    const result = await runCli(['--version']);
    expect([result.exitCode, result.stdout]).toEqual([0, TOOL_VERSION]);
  });

  it('help COMMAND is COMMAND --help', async () => {
    const help = await runCli(['help', 'extract']);
    const own = await npmRun('extract', ['--help']);
    expect(help.exitCode).toBe(0);
    expect(own.exitCode).toBe(0);
    expect(String(help.stdout)).toBe(String(own.stdout));
    expect(String(own.stdout).split('\n')[0]).toBe('Usage: npm run extract -- IMAGE [options]');
    expect(String(own.stdout)).not.toMatch(/src\//);
  });

  it('help of an unknown command is one line, exit 2', async () => {
    const result = await runCli(['help', 'extrct']);
    expect([result.exitCode, result.stderr]).toEqual([
      2,
      'error: Unknown command "extrct"; use extract, report, diff, shell, cleanup (see --help).',
    ]);
  });

  it('a name every object has (constructor) is no command either', async () => {
    for (const args of [['constructor'], ['help', 'toString']]) {
      const result = await runCli(args);
      expect([result.exitCode, result.stderr]).toEqual([
        2,
        `error: Unknown command "${args.at(-1)}"; use extract, report, diff, shell, cleanup (see --help).`,
      ]);
    }
  });
});

describe('an unknown flag', () => {
  it('is one line naming it and the option it most likely meant', async () => {
    const result = await npmRun('extract', [TEST_IMAGES.staticNonroot, '--outptu', 'x']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      'error: Unknown option --outptu; did you mean --output? (see npm run extract -- --help)',
    );
  });

  it('without a close option is the flag alone', async () => {
    const result = await npmRun('report', ['x', '--zzzzzz']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe('error: Unknown option --zzzzzz (see npm run report -- --help)');
  });
});

describe('with no registry in reach', () => {
  let work: string;
  let output: string[];
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'dc-first-hour-'));
    output = ['-o', join(work, 'never-written'), '-q'];
  });
  afterAll(async () => {
    // Each run failed before writing: nothing of theirs is left.
    expect(await readdir(work)).toEqual([]);
    await rm(work, { recursive: true, force: true });
  });

  it('the default base that cannot be pulled names --base and --method fast, never --pull', async () => {
    await expect(docker.getImage(DEFAULT_BASE).inspect()).rejects.toThrow(/no such image/i);
    const result = await npmRun('extract', [TEST_IMAGES.staticNonroot, ...output]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(
      /^error: Could not pull alpine:3\.20\.3: [^\n]+; it is not in the local engine either; give --base IMAGE a local image that has \/bin\/sh, or use --method fast, which needs no base\.$/,
    );
    expect(result.stderr).not.toContain('--pull');
  });

  it('--pull never does not send people back to --pull missing', async () => {
    const result = await npmRun('extract', [TEST_IMAGES.staticNonroot, '--pull', 'never', ...output]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      'error: Image alpine:3.20.3 is not in the local engine, and --pull never forbids pulling it; give --base IMAGE a local image that has /bin/sh, or use --method fast, which needs no base.',
    );
  });

  it('a typo of a local image gets "did you mean"', async () => {
    const typo = TEST_IMAGES.staticNonroot.replace('static', 'statc');
    const result = await npmRun('extract', [typo, '--method', 'fast', '--pull', 'never', ...output]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      `error: Image ${typo} is not in the local engine, and --pull never forbids pulling it (did you mean ${TEST_IMAGES.staticNonroot}?); pull or build it first.`,
    );
  });

  it('--platform on a local image of another platform says so', async () => {
    const local = await docker.getImage(TEST_IMAGES.staticNonroot).inspect();
    const other = local.Architecture === 'arm64' ? 'linux/amd64' : 'linux/arm64';
    const args = [TEST_IMAGES.staticNonroot, '--method', 'fast', '--platform', other, ...output];
    const result = await npmRun('extract', args);
    expect(result.exitCode).toBe(1);
    const pattern = new RegExp(
      `^error: Image ${TEST_IMAGES.staticNonroot} is in the local engine for linux/${local.Architecture} only, and pulling it for ${other} failed \\([^\\n]+\\); drop --platform to use the local image, or pull it for ${other} first\\.$`,
    );
    expect(result.stderr).toMatch(pattern);
  });
});
