import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { extractImage } from '../src/extract/extract-image.js';
import { EXTRACT_METHODS, PULL_POLICIES, resolveExtractOptions } from '../src/options.js';
import { openShell } from '../src/shell/open-shell.js';
import { runCli } from './support/cli.js';

// No engine: every check below must fail before anything is asked of one. The client points at a socket that
// does not exist, so a check that let a bad option through would fail with ENGINE_UNREACHABLE instead.
const nowhere = new Docker({ socketPath: '/nonexistent/docker.sock' });
const NO_ENGINE = { DOCKER_HOST: 'unix:///nonexistent/docker.sock', DOCKER_CONTEXT: '' };

const BAD_OPTIONS: readonly [string, Record<string, unknown>, RegExp][] = [
  ['method', { method: 'bogus' }, /Invalid --method "bogus" \(option method\): use article or fast\./],
  [
    'pull',
    { pull: 'sometimes' },
    /Invalid --pull "sometimes" \(option pull\): use missing, always or never\./,
  ],
  ['force', { force: 'yes' }, /Invalid force "yes"/],
  ['keepImage', { keepImage: 1 }, /Invalid keepImage 1/],
  ['cache with fast', { cache: true, method: 'fast' }, /--cache speeds up the article method only/],
  ['a label with a line break', { labels: { a: 'x\nRUN id' } }, /Invalid label "a"/],
  ['a label without a key', { labels: { '': 'x' } }, /Invalid label ""/],
  ['platform', { platform: 'amd64' }, /Invalid platform "amd64"/],
];

describe('options, validated once in the library', () => {
  it('lists every choice once', () => {
    expect(PULL_POLICIES).toEqual(['missing', 'always', 'never']);
    expect(EXTRACT_METHODS).toEqual(['article', 'fast']);
  });

  it.each(BAD_OPTIONS)('extractImage refuses a bad %s with a UsageError', async (_name, options, message) => {
    expect(() => resolveExtractOptions(options)).toThrow(UsageError);
    const run = extractImage('alpine', { ...options, docker: nowhere, output: '/nonexistent/never-made' });
    await expect(run).rejects.toThrow(UsageError);
    await expect(run).rejects.toThrow(message);
  });

  it.each(BAD_OPTIONS.filter(([name]) => !['method', 'force', 'cache with fast'].includes(name)))(
    'openShell refuses a bad %s with a UsageError',
    async (_name, options, message) => {
      const run = openShell('alpine', { ...options, docker: nowhere });
      await expect(run).rejects.toThrow(UsageError);
      await expect(run).rejects.toThrow(message);
    },
  );

  it('accepts every listed choice', () => {
    for (const pull of PULL_POLICIES) expect(resolveExtractOptions({ pull }).pull).toBe(pull);
    for (const method of EXTRACT_METHODS) expect(resolveExtractOptions({ method }).method).toBe(method);
  });
});

describe.concurrent('the CLI maps flags to the library options and reports the same usage errors', () => {
  it.each([
    [['extract', 'alpine', '--method', 'bogus'], /^error: Invalid --method "bogus" \(option method\)/],
    [
      ['extract', 'a', 'b', '--output-dir', '/tmp/x', '--pull', 'sometimes'],
      /^error: Invalid --pull "sometimes"/,
    ],
    [['shell', 'alpine', '--pull', 'sometimes'], /^error: Invalid --pull "sometimes" \(option pull\)/],
    [['report', 'alpine', '--pull', 'sometimes'], /^error: Invalid --pull "sometimes" \(option pull\)/],
    [
      ['extract', 'alpine', '--method', 'fast', '--cache'],
      /^error: --cache speeds up the article method only/,
    ],
    [['extract', 'alpine', '--label', 'a=x\u0007'], /^error: Invalid label "a"/],
  ])('%j: exit 2, one line, no engine asked', async (args, message) => {
    const result = await runCli(args, { env: NO_ENGINE });
    expect(result.exitCode, String(result.stderr)).toBe(2);
    const lines = String(result.stderr).trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });
});

describe.concurrent('the CLI checks --output and --manifest before it asks the engine anything', () => {
  it.each([
    ['a folder as --manifest', (dir: string) => ['--manifest', join(dir, 'dl')], /is a folder; name a file/],
    [
      'a --manifest in a folder that does not exist',
      (dir: string) => ['--manifest', join(dir, 'nonexistent', 'dir', 'm.json')],
      /the folder .*nonexistent\/dir does not exist/,
    ],
    [
      'a --manifest inside the output',
      (dir: string) => ['--manifest', join(dir, 'out', 'm.json')],
      /inside the output folder/,
    ],
  ])('%s: exit 2, one line, nothing created', async (_name, flags, message) => {
    const dir = await mkdtemp(join(tmpdir(), 'dc-cli-paths-'));
    try {
      await mkdir(join(dir, 'dl'));
      const result = await runCli(['extract', 'alpine', '-o', join(dir, 'out'), ...flags(dir)], {
        env: NO_ENGINE,
      });
      expect(result.exitCode, String(result.stderr)).toBe(2);
      const lines = String(result.stderr).trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(await readdir(dir)).toEqual(['dl']);
      expect(await readdir(join(dir, 'dl'))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
