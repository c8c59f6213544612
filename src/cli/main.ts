#!/usr/bin/env node
import { UsageError } from '../errors.js';
import { EXTRACT_HELP, extractCommand } from './extract-command.js';
import { runCommand } from './run-command.js';

const USAGE = `Usage: distroless-contents <command> [options]

Commands:
  extract IMAGE   dump the image's whole filesystem to a folder (npm run extract -- IMAGE)

Run a command with --help for its options.`;

const [command, ...args] = process.argv.slice(2);

await runCommand(args, async (context) => {
  switch (command) {
    case 'extract':
      return extractCommand(args, context);
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n\n${EXTRACT_HELP}\n`);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`Unknown command ${JSON.stringify(command)}; use extract (see --help).`);
  }
});
