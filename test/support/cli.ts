import { fileURLToPath } from 'node:url';
import { execa, type Options } from 'execa';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** Runs the CLI as `npm run <command>` would (through tsx), never throwing on a non-zero exit. */
export function runCli(args: readonly string[], options: Options = {}) {
  return execa(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    reject: false,
    ...options,
    env: { NO_COLOR: '1', ...options.env },
  });
}
