import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { ensureSlowShellImage } from '../faults/slow-shell-image.js';
import { ensureBigImage } from '../support/big-image.js';
import { runCli } from '../support/cli.js';
import { Terminal } from '../support/terminal.js';

const ESC = '\x1b';
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-progress-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const image = [TEST_IMAGES.staticNonroot, '--base', TEST_IMAGES.shell, '--pull', 'never'];

describe('progress without a terminal (CI, pipes)', () => {
  it('prints each step and its duration as plain lines on stderr, the result alone on stdout', async () => {
    const result = await runCli(['extract', ...image, '-o', join(work, 'plain')], { env: { CI: 'true' } });
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const stderr = String(result.stderr);
    expect(stderr).not.toContain(ESC);
    const done = stderr.split('\n').filter((line) => /: done in \d+\.\d s$/.test(line));
    expect(done.map((line) => line.split(':')[0])).toEqual([
      'resolving images',
      'building',
      'running',
      'copying',
    ]);
    expect(String(result.stdout).trim().split('\n')).toHaveLength(1);
    expect(String(result.stdout)).toMatch(/plain: \d+ directories, \d+ files/);
  });

  it('prints nothing but the result with --quiet', async () => {
    const result = await runCli([
      'extract',
      ...image,
      '-o',
      join(work, 'quiet'),
      '--quiet',
      '--method',
      'fast',
    ]);
    expect(result.exitCode).toBe(0);
    expect(String(result.stderr)).toBe('');
    expect(String(result.stdout)).toMatch(/quiet: \d+ directories/);
  });
});

describe('progress on a terminal', () => {
  let terminal: Terminal | undefined;
  afterEach(async () => {
    await terminal?.kill();
  });

  it.each([
    ['in colour', '', true],
    ['without colour under NO_COLOR', 'NO_COLOR=1 ', false],
  ])('shows a ticked line per step %s', async (_name, env, coloured) => {
    terminal = new Terminal();
    const output = join(work, coloured ? 'tty-colour' : 'tty-plain');
    await terminal.start(`env -u CI ${env}npx tsx src/cli/main.ts extract ${image.join(' ')} -o ${output}`);
    expect(await terminal.exitStatus()).toBe(0);
    const lines = await terminal.lines();
    for (const step of ['resolving images', 'building', 'running', 'copying']) {
      expect(
        lines.some((line) => new RegExp(`^✔ ${step} \\d+\\.\\d s$`).test(line)),
        lines.join('\n'),
      ).toBe(true);
    }
    const { stdout: raw } = await terminal.tmux('capture-pane', '-p', '-e', '-S', '-', '-t', terminal.target);
    expect(raw.includes(`${ESC}[32m`)).toBe(coloured);
  });

  it("puts a log line above the live one, never glued onto it (the fast method's layer lines)", async () => {
    terminal = new Terminal();
    const output = join(work, 'tty-fast');
    await terminal.start(
      `env -u CI npx tsx src/cli/main.ts extract ${image.join(' ')} --method fast -o ${output}`,
    );
    expect(await terminal.exitStatus()).toBe(0);
    const lines = await terminal.lines();
    expect(lines, lines.join('\n')).toContain('applying layer 1 of 1');
    expect(
      lines.filter((line) => line.includes('applying layer') && line !== 'applying layer 1 of 1'),
    ).toEqual([]);
    expect(lines.some((line) => /^✔ copying \d+\.\d s$/.test(line))).toBe(true);
  });

  it.each(['fast', 'article'] as const)(
    'shows bytes, entries and rate on the live line while the %s method copies',
    async (method) => {
      const big = await ensureBigImage();
      terminal = new Terminal();
      const output = join(work, `tty-bytes-${method}`);
      await terminal.start(
        `env -u CI npx tsx src/cli/main.ts extract ${big} --base ${TEST_IMAGES.shell} --pull never --method ${method} -o ${output}`,
      );
      const live = /^copy: (\d+\.\d) MB of ~\d+\.\d MB {2}[\d,]+ entries {2}\d+\.\d MB\/s/;
      await terminal.waitFor('a live line with bytes and rate', (shown) =>
        shown.some((line) => live.test(line)),
      );
      expect(await terminal.exitStatus()).toBe(0);
      // Drawn over by the step's tick once it is done.
      const lines = await terminal.lines();
      expect(lines.some((line) => live.test(line))).toBe(false);
      expect(lines.some((line) => /^✔ copying \d+\.\d s$/.test(line))).toBe(true);
    },
  );

  it('keeps a clock moving on the live line of a step that gives no news (a run that never ends)', async () => {
    const slow = await ensureSlowShellImage();
    terminal = new Terminal();
    const output = join(work, 'tty-clock');
    await terminal.start(
      `env -u CI npx tsx src/cli/main.ts extract ${TEST_IMAGES.staticNonroot} --base ${slow} --pull never -o ${output}`,
    );
    const clock = (lines: string[]) =>
      Number(/^running….* (\d+) s$/.exec(lines.find((line) => line.startsWith('running…')) ?? '')?.[1] ?? -1);
    const first = clock(await terminal.waitFor('the run step with its clock', (lines) => clock(lines) >= 1));
    const later = clock(await terminal.waitFor('the clock to move on', (lines) => clock(lines) >= first + 2));
    expect(later).toBeGreaterThan(first);
    await terminal.tmux('send-keys', '-t', terminal.target, 'C-c');
    expect(await terminal.exitStatus()).toBe(130);
    expect(await terminal.lines()).toContain('SIGINT: stopping and cleaning up…');
  });
});

describe('progress of report and diff on an image', () => {
  it('shows the extraction steps on stderr, and --method fast needs no base image', async () => {
    const result = await runCli(
      ['report', TEST_IMAGES.staticNonroot, '--method', 'fast', '--pull', 'never', '--json'],
      {
        env: { CI: 'true' },
      },
    );
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const steps = String(result.stderr)
      .split('\n')
      .filter((line) => /: done in \d+\.\d s$/.test(line))
      .map((line) => line.split(':')[0]);
    expect(steps).toEqual(['resolving images', 'copying']);
    expect(JSON.parse(String(result.stdout)).summary.files).toBeGreaterThan(100);
  });
});
