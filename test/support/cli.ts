import { fileURLToPath } from 'node:url';
import { execa, type Options } from 'execa';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
// By URL, so the CLI may run from any working directory.
const TSX = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;

/** Runs the CLI as `npm run <command>` would (through tsx), never throwing on a non-zero exit. */
export function runCli(args: readonly string[], options: Options = {}) {
  return execa(process.execPath, ['--import', TSX, MAIN, ...args], {
    cwd: ROOT,
    reject: false,
    // execa would follow a signal the test sends with SIGKILL after 5 s; cleaning up may take longer.
    forceKillAfterDelay: false,
    ...options,
    env: { NO_COLOR: '1', ...options.env },
  });
}
