import { type ParseArgsConfig, parseArgs } from 'node:util';
import { closestName } from '../closest-name.js';
import { InterruptedError, UsageError } from '../errors.js';
import { commandLine } from '../invocation.js';
import { visibleLines } from '../text/visible.js';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

export interface CommandContext {
  /** Aborted on SIGINT, SIGTERM or SIGHUP, with an InterruptedError as the reason. */
  readonly signal: AbortSignal;
  readonly debug: boolean;
}

const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
// SIGHUP too: a closed terminal must not leave the run's container and image behind.
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Runs one CLI command: turns SIGINT/SIGTERM/SIGHUP into an abort (so the command cleans up before exiting)
 * and any error into one line on stderr with the right exit code: 2 usage, 130/143/129 signals, 1 otherwise.
 */
export async function runCommand(
  argv: readonly string[],
  command: (context: CommandContext) => Promise<number>,
) {
  const debug = argv.includes('--debug');
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) return;
    process.stderr.write(`\n${signal}: stopping and cleaning up…\n`);
    controller.abort(new InterruptedError(signal));
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  // A closed terminal (EIO) or reader (EPIPE) must not crash the run before it has cleaned up; the listeners
  // stay, since the last error line may fail the same way after this function returns.
  process.stdout.on('error', ignoreWriteError);
  process.stderr.on('error', ignoreWriteError);
  try {
    process.exitCode = await command({ signal: controller.signal, debug });
  } catch (error) {
    process.exitCode = exitCode(error);
    process.stderr.write(`${visibleLines(formatError(error, debug))}\n`);
  } finally {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  }
}

function ignoreWriteError(): void {}

export function exitCode(error: unknown): number {
  if (error instanceof InterruptedError) return SIGNAL_EXIT[error.signal] ?? 130;
  if (error instanceof UsageError) return 2;
  return 1;
}

function formatError(error: unknown, debug: boolean): string {
  const line = `error: ${error instanceof Error ? error.message : String(error)}`;
  if (!debug) return line;
  const details: string[] = [line];
  let current: unknown = error;
  while (current instanceof Error) {
    details.push(current.stack ?? String(current));
    current = current.cause;
  }
  return details.join('\n');
}

/** Parses a command's flags strictly; unknown flags, missing values and the like are usage errors (exit 2). */
export function parseCommandLine<const O extends OptionsConfig>(
  argv: string[],
  options: O,
  command: string,
): ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError(error, options, command);
  }
}

/** parseArgs' complaint as one line that names the flag, a likely meant one, and where the help is. */
function usageError(error: unknown, options: OptionsConfig, command: string): unknown {
  const code = (error as { code?: string }).code;
  if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS')) return error;
  const message = (error as Error).message;
  const help = `see ${commandLine(command)} --help`;
  const unknown = /^Unknown option '([^']*)'/.exec(message)?.[1];
  if (unknown !== undefined) {
    const meant = closestName(unknown.replace(/^-+/, ''), Object.keys(options));
    const hint = meant === undefined ? '' : `; did you mean --${meant}?`;
    return new UsageError(`Unknown option ${unknown}${hint} (${help})`, { cause: error });
  }
  const option = /^Option '(?:-\w, )?(--[\w-]+)/.exec(message)?.[1];
  if (option !== undefined && / argument missing$/.test(message)) {
    return new UsageError(`${option} needs a value (${help})`, { cause: error });
  }
  if (option !== undefined && / argument is ambiguous/.test(message)) {
    return new UsageError(
      `${option} needs a value; one that starts with - goes as ${option}=VALUE (${help})`,
      {
        cause: error,
      },
    );
  }
  if (option !== undefined && /does not take an argument$/.test(message)) {
    return new UsageError(`${option} takes no value (${help})`, { cause: error });
  }
  return new UsageError(`${message} (${help})`, { cause: error });
}
