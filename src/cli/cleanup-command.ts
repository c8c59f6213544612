import { commandLine } from '../invocation.js';
import { removeLeftovers } from '../leftovers.js';
import { visible, visibleJson } from '../text/visible.js';
import { type CommandContext, parseCommandLine } from './run-command.js';

export const CLEANUP_HELP = `Usage: ${commandLine('cleanup')} [DIR...] [options]

Removes what interrupted runs left behind: containers and images labelled dev.distroless-contents.tool,
and staging folders (.distroless-contents-staging-*) in each DIR (default: the current folder).
Resources of runs still alive on this machine are left alone.

Options:
      --kept    also remove images kept on purpose (--keep-image, the build cache)
      --json    print what was removed as JSON on stdout
  -h, --help    show this help`;

export async function cleanupCommand(argv: string[], _context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, 'cleanup');
  if (values.help) {
    process.stdout.write(`${CLEANUP_HELP}\n`);
    return 0;
  }
  const report = await removeLeftovers({
    dirs: positionals.length > 0 ? positionals : [process.cwd()],
    includeKept: values.kept ?? false,
  });
  if (values.json) {
    process.stdout.write(`${visibleJson(report)}\n`);
    return 0;
  }
  const lines = [
    ...report.containers.map((id) => `removed container ${id.slice(0, 12)}`),
    ...report.images.map((id) => `removed image ${id.replace(/^sha256:/, '').slice(0, 12)}`),
    ...report.folders.map((path) => `removed staging folder ${visible(path)}`),
  ];
  lines.push(
    `${report.containers.length} containers, ${report.images.length} images, ${report.folders.length} staging folders removed`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

const OPTIONS = {
  kept: { type: 'boolean' },
  json: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;
