import { InterruptedError, UsageError } from '../errors.js';
import { diffTargets } from '../inspect/diff-report.js';
import { formatDiffText } from '../inspect/format-diff-text.js';
import { withTarget } from '../inspect/load-target.js';
import { DEFAULT_DEPTH } from '../inspect/report.js';
import { countOption, imageTargetOptions } from '../inspect/target-options.js';
import { commandLine } from '../invocation.js';
import { visibleJson, visibleLines } from '../text/visible.js';
import { IMAGE_FLAGS } from './image-flags.js';
import { targetContext } from './progress-reporter.js';
import { type CommandContext, parseCommandLine } from './run-command.js';

export const DIFF_HELP = `Usage: ${commandLine('diff')} A B [options]

Compares two images: added, removed and changed paths (what changed: content, size, mode, owner, type,
link target), bytes per folder, and packages added, removed or at another version. A and B are each an
image reference, a dump folder or a manifest file (see ${commandLine('report')} --help).

Options:
      --ignore PATTERN  leave out paths matching a glob (repeatable): * and ? within a name, ** across
                        folders; a pattern without / matches a name at any depth; a folder covers its contents
      --mtime           also report modification times (left out by default)
      --hash            hash the files of scanned dump folders so contents are compared (manifests have hashes)
  -d, --depth N         folder depth of the per-folder byte deltas (default ${DEFAULT_DEPTH})
      --stat            print the summary only: counts and bytes (a terminal gets the summary first anyway)
      --json            print JSON (schema 1: the DiffReport type the package exports)
      --pull POLICY     image targets: missing (default), always or never
      --method M        image targets: article (default) or fast (needs no base image)
      --platform P      image targets: os/arch[/variant]
      --tls-verify=B    docker:// targets: check registry certificates (true) or not (false)
      --base IMAGE      image targets: image that provides /bin/sh for the extraction
  -q, --quiet           no progress on stderr
      --debug           print stack traces on errors
  -h, --help            show this help

Exit codes, as diff(1): 0 identical, 1 different, 2 error.`;

export async function diffCommand(argv: string[], context: CommandContext): Promise<number> {
  try {
    return await compare(argv, context);
  } catch (error) {
    // diff(1) exits 2 on trouble, so 1 can only mean "different"; signals keep their own codes.
    if (error instanceof InterruptedError || error instanceof UsageError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(message, { cause: error });
  }
}

async function compare(argv: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, 'diff');
  if (values.help) {
    process.stdout.write(`${DIFF_HELP}\n`);
    return 0;
  }
  if (positionals.length !== 2) {
    throw new UsageError(
      `Expected two targets A and B, got ${positionals.length}: ${commandLine('diff')} A B (see --help).`,
    );
  }
  const depth = countOption('depth', values.depth, DEFAULT_DEPTH, 1);
  const options = {
    ...imageTargetOptions(values, targetContext(context.signal, values.quiet ?? false)),
    hash: values.hash ?? false,
  };
  const [a, b] = positionals as [string, string];
  const diff = await withTarget(a, options, (left) =>
    withTarget(b, options, (right) =>
      diffTargets(left, right, { ignore: values.ignore ?? [], mtime: values.mtime ?? false, depth }),
    ),
  );
  const text = { stat: values.stat ?? false, summaryFirst: process.stdout.isTTY === true };
  process.stdout.write(values.json ? `${visibleJson(diff)}\n` : visibleLines(formatDiffText(diff, text)));
  return diff.identical ? 0 : 1;
}

const OPTIONS = {
  ignore: { type: 'string', multiple: true },
  mtime: { type: 'boolean' },
  stat: { type: 'boolean' },
  hash: { type: 'boolean' },
  depth: { type: 'string', short: 'd' },
  json: { type: 'boolean' },
  ...IMAGE_FLAGS,
} as const;
