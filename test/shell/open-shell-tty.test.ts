import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { leftovers, testLabel } from '../support/leftovers.js';
import { POLL_EVERY_MS, poll, Terminal } from '../support/terminal.js';

const PROMPT = /\/distroless-contents # ?$/;
const NONROOT_LINE = 'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin';

/**
 * The pane runs the tool as a user would (npx tsx), inside a host shell that checks afterwards that the
 * terminal's settings are back as they were and prints the tool's exit status.
 */
function cliCommand(labelArg: string): string {
  const tool = `npx tsx src/cli/main.ts shell ${TEST_IMAGES.staticNonroot} --base ${TEST_IMAGES.shell} --pull never --label ${labelArg}`;
  return `sh -c 'before=$(stty -g); ${tool}; code=$?; if [ "$(stty -g)" = "$before" ]; then echo terminal-restored; else echo terminal-changed; fi; echo "tool-exit=$code"; exit $code'`;
}

/**
 * The process running the tool's code: of the processes whose command line carries the test's label (the
 * pane's shell, npx, tsx and the tool), the one with no such process below it.
 */
async function toolPid(labelValue: string): Promise<number> {
  const parentOf = new Map<number, number>();
  const labelled: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      parentOf.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8');
      if (cmdline.includes(labelValue) && cmdline.includes('main.ts')) labelled.push(Number(name));
    } catch {
      // Gone between readdir and read.
    }
  }
  const withLabelledDescendant = new Set<number>();
  for (const pid of labelled) {
    for (let parent = parentOf.get(pid); parent !== undefined && parent > 1; parent = parentOf.get(parent))
      withLabelledDescendant.add(parent);
  }
  const innermost = labelled.filter((pid) => !withLabelledDescendant.has(pid));
  if (innermost.length !== 1)
    throw new Error(`Expected one tool process, found ${innermost.join(', ') || 'none'}.`);
  return innermost[0] as number;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm run shell in a real terminal (tmux)', () => {
  let terminal: Terminal;
  let label: ReturnType<typeof testLabel>;

  /** Starts `command` in the terminal and waits for the container's shell prompt. */
  async function startAndWaitForPrompt(command: string): Promise<void> {
    await terminal.start(command);
    await terminal.waitFor('the shell prompt', (lines) => lines.some((line) => PROMPT.test(line)));
  }

  beforeEach(() => {
    terminal = new Terminal();
    label = testLabel();
  });
  afterEach(async () => {
    await terminal.kill();
  });

  it('opens a shell at /distroless-contents sized to the terminal, passes ^C to it, and exits with its code', async () => {
    await startAndWaitForPrompt(cliCommand(label.arg));
    // Expanded by the shell in the container, so these lines appear only as output, never as typed text.
    await terminal.type('echo "pwd=$(pwd)"');
    await terminal.waitForLine('pwd=/distroless-contents');

    await terminal.type('ls /distroless-contents/etc');
    await terminal.waitFor('passwd in the listing', (lines) =>
      lines.some((line) => !line.includes(' # ') && /(^|\s)passwd(\s|$)/.test(line)),
    );
    await terminal.type('cat /distroless-contents/etc/passwd');
    await terminal.waitForLine(NONROOT_LINE);

    const paneSize = async () => (await terminal.format('#{pane_height} #{pane_width}')).trim();
    const initial = `size=${await paneSize()}`;
    await terminal.type('echo "size=$(stty size)"');
    await terminal.waitForLine(initial);
    // SIGWINCH: the container's TTY follows the terminal. Asked again until the resize has reached it.
    await terminal.tmux('resize-window', '-t', terminal.target, '-x', '90', '-y', '25');
    const resized = `size=${await paneSize()}`;
    expect(resized).not.toBe(initial);
    await poll('the container to see the new size', async () => {
      await terminal.type('echo "size=$(stty size)"');
      await delay(POLL_EVERY_MS);
      return (await terminal.lines()).includes(resized) ? true : undefined;
    });

    // In raw mode ^C is a byte for the shell in the container, not a SIGINT for the tool.
    await terminal.type(`trap 'echo "trapped-$((1+1))"' INT`);
    await terminal.type('sleep 600');
    await terminal.waitFor('sleep to be typed', (lines) =>
      lines.some((line) => line.endsWith('# sleep 600')),
    );
    // A ^C that lands after the shell forked sleep but before it gave sleep the terminal reaches the shell,
    // whose trap then waits for sleep 600 to end; so ^C is sent again until the trap has run.
    // The terminal echoes ^C without a newline, so the trap's output shares its line.
    await poll('the trap to run', async () => {
      await terminal.tmux('send-keys', '-t', terminal.target, 'C-c');
      await delay(1000);
      return (await terminal.lines()).some((line) => line.endsWith('trapped-2')) ? true : undefined;
    });
    await terminal.type('echo "alive-$((6*7))"');
    await terminal.waitForLine('alive-42');

    await terminal.type('exit 3');
    expect(await terminal.exitStatus()).toBe(3);
    const lines = await terminal.lines();
    expect(lines).toContain('tool-exit=3');
    expect(lines).toContain('terminal-restored');
    expect(await leftovers(label.value)).toEqual([]);
  });

  it('gives the terminal back to a library caller: not raw, stdin idle so the process can end', async () => {
    const fixture = 'test/shell/fixtures/shell-then-report.ts';
    await startAndWaitForPrompt(
      `npx tsx ${fixture} ${TEST_IMAGES.staticNonroot} ${TEST_IMAGES.shell} ${label.arg}`,
    );
    await terminal.type('exit 5');
    // The fixture prints this after openShell returns, then has nothing left to do but exit.
    expect(await terminal.exitStatus()).toBe(0);
    expect(await terminal.lines()).toContain('after-shell raw=false code=5');
    expect(await leftovers(label.value)).toEqual([]);
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('on %s stops, restores the terminal, exits %i and leaves nothing', async (signal, exitCode) => {
    await startAndWaitForPrompt(cliCommand(label.arg));
    process.kill(await toolPid(label.value), signal);
    expect(await terminal.exitStatus()).toBe(exitCode);
    const lines = await terminal.lines();
    expect(lines.some((line) => line.includes(`error: Interrupted by ${signal}`))).toBe(true);
    expect(lines).toContain('terminal-restored');
    expect(await leftovers(label.value)).toEqual([]);
  });

  it('cleans up when the terminal itself goes away', async () => {
    await startAndWaitForPrompt(cliCommand(label.arg));
    const pid = await toolPid(label.value);
    await terminal.kill();
    await poll('the tool to exit', async () => (isRunning(pid) ? undefined : true));
    expect(await leftovers(label.value)).toEqual([]);
  });
});
