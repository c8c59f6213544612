#!/usr/bin/env node
import { UsageError } from '../errors.js';
import { CLEANUP_HELP, cleanupCommand } from './cleanup-command.js';
import { DIFF_HELP, diffCommand } from './diff-command.js';
import { EXTRACT_HELP, extractCommand } from './extract-command.js';
import { REPORT_HELP, reportCommand } from './report-command.js';
import { runCommand } from './run-command.js';
import { SHELL_HELP, shellCommand } from './shell-command.js';

const USAGE = `Usage: distroless-contents <command> [options]

Commands:
  extract IMAGE   dump the image's whole filesystem to a folder (npm run extract -- IMAGE)
  report TARGET   show what an image, dump or manifest holds (npm run report -- TARGET)
  diff A B        compare two images, dumps or manifests; exit 1 when they differ (npm run diff -- A B)
  shell IMAGE     open a shell in the article's image, at /distroless-contents (npm run shell -- IMAGE)
  cleanup [DIR]   remove what interrupted runs left behind (npm run cleanup)

Run a command with --help for its options.`;

const [command, ...args] = process.argv.slice(2);

await runCommand(args, async (context) => {
  switch (command) {
    case 'extract':
      return extractCommand(args, context);
    case 'report':
      return reportCommand(args, context);
    case 'diff':
      return diffCommand(args, context);
    case 'shell':
      return shellCommand(args, context);
    case 'cleanup':
      return cleanupCommand(args, context);
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(
        `${USAGE}\n\n${EXTRACT_HELP}\n\n${REPORT_HELP}\n\n${DIFF_HELP}\n\n${SHELL_HELP}\n\n${CLEANUP_HELP}\n`,
      );
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(
        `Unknown command ${JSON.stringify(command)}; use extract, report, diff, shell or cleanup (see --help).`,
      );
  }
});
