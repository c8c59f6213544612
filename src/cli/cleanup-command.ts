import { commandLine } from '../invocation.js';
import { removeLeftovers } from '../leftovers.js';
import { visible, visibleJson, visibleText } from '../text/visible.js';
import { type CommandContext, parseCommandLine } from './run-command.js';

export const CLEANUP_HELP = `Usage: ${commandLine('cleanup')} [DIR...] [options]

Removes what interrupted runs left behind: containers and images labelled dev.distroless-contents.tool,
and staging folders (.distroless-contents-staging-*) in each DIR (default: the current folder).
Resources of runs still alive on this machine are left alone.

Options:
      --dry-run list what would be removed, and why (whose run, which host, its process gone), removing nothing
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
    dryRun: values['dry-run'] ?? false,
  });
  if (values.json) {
    process.stdout.write(`${visibleJson(report)}\n`);
    return 0;
  }
  const dryRun = values['dry-run'] ?? false;
  const verb = dryRun ? 'would remove' : 'removed';
  const lines = report.items.map((item) => {
    const what = item.kind === 'folder' ? 'staging folder' : item.kind;
    const id = item.kind === 'folder' ? item.id : item.id.replace(/^sha256:/, '').slice(0, 12);
    return `${verb} ${what} ${item.kind === 'folder' ? visible(id) : id}${dryRun ? `: ${visibleText(item.reason)}` : ''}`;
  });
  lines.push(
    `${report.containers.length} containers, ${report.images.length} images, ${report.folders.length} staging folders ${dryRun ? 'would be removed (dry run: nothing removed)' : 'removed'}`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

const OPTIONS = {
  'dry-run': { type: 'boolean' },
  kept: { type: 'boolean' },
  json: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;
