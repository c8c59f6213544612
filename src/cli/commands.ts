import { UsageError } from '../errors.js';
import { commandLine } from '../invocation.js';
import { TOOL_VERSION } from '../version.js';
import { CLEANUP_HELP, cleanupCommand } from './cleanup-command.js';
import { DIFF_HELP, diffCommand } from './diff-command.js';
import { EXTRACT_HELP, extractCommand } from './extract-command.js';
import { REPORT_HELP, reportCommand } from './report-command.js';
import { type CommandContext, runCommand } from './run-command.js';
import { SHELL_HELP, shellCommand } from './shell-command.js';

interface Command {
  readonly help: string;
  readonly run: (args: string[], context: CommandContext) => Promise<number>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  extract: { help: EXTRACT_HELP, run: extractCommand },
  report: { help: REPORT_HELP, run: reportCommand },
  diff: { help: DIFF_HELP, run: diffCommand },
  shell: { help: SHELL_HELP, run: shellCommand },
  cleanup: { help: CLEANUP_HELP, run: cleanupCommand },
};

const OVERVIEW = `Usage: ${commandLine('COMMAND')} [options]

Dumps the whole filesystem of a container image (distroless included) to a folder, with a JSON manifest.

Commands:
  extract IMAGE   dump the image's whole filesystem to a folder
  report TARGET   show what an image, dump or manifest holds
  diff A B        compare two images, dumps or manifests; exit 1 when they differ
  shell IMAGE     open a shell in the article's image, at /distroless-contents
  cleanup [DIR]   remove what interrupted runs left behind

Run ${commandLine('COMMAND')} --help for a command's options; --version prints the version.`;

const [command, ...args] = process.argv.slice(2);

await runCommand(args, async (context) => {
  const known = command !== undefined && Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (known) return known.run(args, context);
  switch (command) {
    case undefined:
      process.stderr.write(`${OVERVIEW}\n`);
      return 2;
    case '--help':
    case '-h':
      process.stdout.write(`${OVERVIEW}\n`);
      return 0;
    case '--version':
    case '-V':
      process.stdout.write(`${TOOL_VERSION}\n`);
      return 0;
    case 'help': {
      const [topic] = args;
      if (topic === undefined) {
        process.stdout.write(`${OVERVIEW}\n`);
        return 0;
      }
      const help = Object.hasOwn(COMMANDS, topic) ? COMMANDS[topic]?.help : undefined;
      if (help === undefined) throw unknownCommand(topic);
      process.stdout.write(`${help}\n`);
      return 0;
    }
    default:
      throw unknownCommand(command);
  }
});

function unknownCommand(name: string): UsageError {
  return new UsageError(
    `Unknown command ${JSON.stringify(name)}; use ${Object.keys(COMMANDS).join(', ')} (see --help).`,
  );
}
