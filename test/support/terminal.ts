import { randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { execa } from 'execa';
import { ROOT } from './cli.js';

// Bounds for polling, not speed assertions: the build alone can take a while on a busy machine.
const POLL_LIMIT_MS = 120_000;
export const POLL_EVERY_MS = 100;

/** A private tmux server (own socket, no user config) with one detached session of a fixed size. */
export class Terminal {
  readonly socket = join(tmpdir(), `dc-shell-test-${randomUUID()}.sock`);
  readonly target = 'shell';
  /** The command as a script, and where its exit status is written when it ends. */
  private readonly script = `${this.socket}.sh`;
  private readonly statusFile = `${this.socket}.status`;

  tmux(...args: string[]) {
    return execa('tmux', ['-S', this.socket, '-f', '/dev/null', ...args]);
  }

  /**
   * Runs `command` in a 100x30 pane that stays visible after it exits. Its exit status is written to a file
   * by a shell around it: tmux's own #{pane_dead_status} stays empty for some commands (npx under env), and
   * an empty one read as 0 would let every "exits 0" check pass. The shell around it traps (never ignores,
   * which the command would inherit) SIGINT, so that a ^C typed into the pane leaves it to write the status.
   */
  async start(command: string): Promise<void> {
    await writeFile(this.script, `${command}\n`);
    await this.tmux(
      ...['new-session', '-d', '-s', this.target, '-x', '100', '-y', '30', 'cat'],
      ...[';', 'set-option', '-g', 'remain-on-exit', 'on'],
      ...[
        ';',
        'respawn-pane',
        '-k',
        '-t',
        this.target,
        '-c',
        ROOT,
        `trap true INT; sh ${this.script}; echo $? > ${this.statusFile}`,
      ],
    );
  }

  async lines(): Promise<string[]> {
    const { stdout } = await this.tmux('capture-pane', '-p', '-J', '-S', '-', '-t', this.target);
    return stdout.split('\n').map((line) => line.trimEnd());
  }

  async format(format: string): Promise<string> {
    return (await this.tmux('display-message', '-p', '-t', this.target, format)).stdout;
  }

  /** Types a line into the pane as keystrokes. */
  async type(text: string): Promise<void> {
    await this.tmux('send-keys', '-t', this.target, '-l', text);
    await this.tmux('send-keys', '-t', this.target, 'Enter');
  }

  /** Polls the screen until `found` holds, up to POLL_LIMIT_MS; fails showing the last screen. */
  async waitFor(what: string, found: (lines: string[]) => boolean): Promise<string[]> {
    return poll(
      what,
      async () => {
        const lines = await this.lines();
        return found(lines) ? lines : undefined;
      },
      async () => (await this.lines()).join('\n'),
    );
  }

  async waitForLine(line: string): Promise<string[]> {
    return this.waitFor(`a line "${line}"`, (lines) => lines.includes(line));
  }

  /** Waits until the pane's command has exited and returns its exit status. */
  async exitStatus(): Promise<number> {
    return poll('the pane to exit', async () => {
      if ((await this.format('#{pane_dead}')) !== '1') return undefined;
      const status = (await readFile(this.statusFile, 'utf8').catch(() => '')).trim();
      return /^\d+$/.test(status) ? Number(status) : undefined;
    });
  }

  async kill(): Promise<void> {
    await this.tmux('kill-server').catch(() => {});
    // tmux leaves its socket file behind.
    await rm(this.socket, { force: true });
    await rm(this.script, { force: true });
    await rm(this.statusFile, { force: true });
  }
}

export async function poll<T>(
  what: string,
  attempt: () => Promise<T | undefined>,
  describe: () => Promise<string> = async () => '',
): Promise<T> {
  const deadline = performance.now() + POLL_LIMIT_MS;
  for (;;) {
    const result = await attempt();
    if (result !== undefined) return result;
    if (performance.now() > deadline) {
      throw new Error(`Gave up waiting for ${what} after ${POLL_LIMIT_MS} ms.\n${await describe()}`);
    }
    await delay(POLL_EVERY_MS);
  }
}
