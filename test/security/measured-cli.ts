import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { ensureCommands } from '../../scripts/lib/system-packages.mjs';
import { ROOT } from '../support/cli.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;

export interface MeasuredRun {
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  readonly stdout: string;
  readonly stderr: string;
  /** Peak resident memory of the CLI process, from GNU time (apt package `time`). */
  readonly maxRssKiB: number;
}

/** Runs the CLI as runCli does, under `/usr/bin/time -v`, and reports its peak memory with its output. */
export async function runCliMeasured(args: readonly string[]): Promise<MeasuredRun> {
  await ensureCommands({ time: 'time' });
  const dir = await mkdtemp(join(tmpdir(), 'dc-time-'));
  try {
    const report = join(dir, 'time.txt');
    const result = await execa(
      '/usr/bin/time',
      ['-v', '-o', report, process.execPath, '--import', TSX, MAIN, ...args],
      { cwd: ROOT, reject: false, env: { NO_COLOR: '1' } },
    );
    const text = await readFile(report, 'utf8');
    const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(text)?.[1];
    if (rss === undefined) throw new Error(`/usr/bin/time wrote no peak memory: ${text.slice(0, 200)}`);
    // GNU time reports a child killed by a signal on its first line and exits with 128+N itself.
    const signal = /^Command terminated by signal (\d+)/m.exec(text)?.[1];
    return {
      exitCode: signal === undefined ? result.exitCode : undefined,
      signal: signal === undefined ? undefined : `signal ${signal}`,
      stdout: String(result.stdout),
      stderr: String(result.stderr),
      maxRssKiB: Number(rss),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
