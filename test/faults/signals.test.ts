import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { ensureBigImage } from '../support/big-image.js';
import { runCli } from '../support/cli.js';
import { leftovers, stagingLeftovers, testLabel } from '../support/leftovers.js';
import { type SilentRegistry, startSilentRegistry } from './silent-registry.js';
import { ensureSlowShellImage } from './slow-shell-image.js';

// Signals at the steps test/cli/extract-signals.test.ts does not reach: the pull (from a registry that
// never answers), the article's run step (a base whose shell sleeps for an hour) and the fast method's
// copy; and SIGKILL in the fast method's copy, whose debris the next run or npm run cleanup removes.
// Each step, left alone, would last far longer than the test's timeout: a signal that is not acted on
// shows as a timeout.

let work: string;
let registry: SilentRegistry;
let big: string;
let slowShell: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-fault-signals-'));
  registry = await startSilentRegistry();
  [big, slowShell] = await Promise.all([ensureBigImage(), ensureSlowShellImage()]);
});

afterAll(async () => {
  await registry?.close();
  await rm(work, { recursive: true, force: true });
});

interface Scenario {
  readonly step: string;
  readonly method: 'article' | 'fast';
  readonly args: () => string[];
  /** The progress line that says the step has begun. */
  readonly trigger: string;
  /** Further proof that the step is under way before the signal goes. */
  readonly ready?: () => boolean;
}

const SCENARIOS: readonly Scenario[] = [
  ...(['article', 'fast'] as const).map((method) => ({
    step: 'pull',
    method,
    args: () => [`${registry.host}/hangs/${method}:1`, '--base', TEST_IMAGES.shell],
    trigger: 'pulling',
    // The engine is waiting for the manifest: the pull is in flight, not about to start.
    ready: () => registry.requests().some((line) => line.includes(`/v2/hangs/${method}/manifests/`)),
  })),
  {
    step: 'run',
    method: 'article',
    args: () => [TEST_IMAGES.staticNonroot, '--base', slowShell, '--pull', 'never'],
    trigger: 'running',
  },
  {
    step: 'copy',
    method: 'fast',
    args: () => [big, '--pull', 'never'],
    trigger: 'copying',
  },
];

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

describe.each(SCENARIOS)('$method method, $step step', (scenario) => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    `%s exits %i and leaves no container, image, staging folder or output`,
    async (signal, exitCode) => {
      const label = testLabel();
      const dir = join(work, `${scenario.method}-${scenario.step}-${signal}`);
      await mkdir(dir);
      const { result, sent } = await interrupt(
        [
          'extract',
          ...scenario.args(),
          '--method',
          scenario.method,
          '-o',
          join(dir, 'out'),
          '--label',
          label.arg,
        ],
        scenario.trigger,
        signal,
        scenario.ready,
      );
      const stderr = String(result.stderr);
      expect(sent, stderr).toBe(true);
      expect(result.exitCode, stderr).toBe(exitCode);
      expect(stderr).toContain(`error: Interrupted by ${signal}`);
      expect(stderr).not.toMatch(/^\s+at /m);
      expect(await leftovers(label.value)).toEqual([]);
      expect(await readdir(dir)).toEqual([]);
    },
  );
});

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
