import { UsageError } from '../errors.js';
import { commandLine } from '../invocation.js';
import { DEFAULT_BASE, type PullPolicy } from '../options.js';
import { openShell } from '../shell/open-shell.js';
import { CONTENTS_DIR } from '../template.js';
import { visibleText } from '../text/visible.js';
import { parseLabels } from './extract-command.js';
import { type CommandContext, parseCommandLine } from './run-command.js';

export const SHELL_HELP = `Usage: ${commandLine('shell')} IMAGE [options]

Builds the article's image (IMAGE's whole filesystem under ${CONTENTS_DIR} of a base with a shell) and opens
its shell there, like docker run --rm -it. On a terminal, ^C goes to the shell; leave with exit or ^D.
Without a terminal, stdin is the shell's script: echo 'ls' | ${commandLine('shell')} IMAGE
The container is removed on exit, and the built image too unless --keep-image.

Options:
      --pull POLICY     missing (default), always or never
      --platform P      os/arch[/variant] to pull and build for, e.g. linux/arm64
      --base IMAGE      image that provides /bin/sh for the article's container (default ${DEFAULT_BASE})
      --keep-image      keep the built image (it is removed by default)
      --label KEY=VALUE extra label for every container and image the run creates (repeatable)
  -q, --quiet           no progress on stderr
      --debug           print stack traces on errors
  -h, --help            show this help

Exit codes: the shell's own, 1 failed, 2 usage error, 130/143/129 stopped by SIGINT/SIGTERM/SIGHUP.`;

export async function shellCommand(argv: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, 'shell');
  if (values.help) {
    process.stdout.write(`${SHELL_HELP}\n`);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      `Expected exactly one image, got ${positionals.length}: ${commandLine('shell')} IMAGE [--base IMAGE] (see --help).`,
    );
  }
  return openShell(positionals[0] as string, {
    ...(values.platform !== undefined && { platform: values.platform }),
    ...(values.base !== undefined && { base: values.base }),
    keepImage: values['keep-image'] ?? false,
    ...(values.pull !== undefined && { pull: values.pull as PullPolicy }),
    labels: parseLabels(values.label ?? []),
    signal: context.signal,
    log: values.quiet ? () => {} : (line) => process.stderr.write(`${visibleText(line)}\n`),
  });
}

const OPTIONS = {
  pull: { type: 'string' },
  platform: { type: 'string' },
  base: { type: 'string' },
  'keep-image': { type: 'boolean' },
  label: { type: 'string', multiple: true },
  quiet: { type: 'boolean', short: 'q' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;
