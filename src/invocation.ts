/**
 * How the tool was started, so that help and errors name a command a person can type: `npm run extract --`
 * in a clone (the scripts run src/cli/main.ts), `distroless-contents extract` once installed.
 */
const fromClone = /[/\\]src[/\\]cli[/\\]main\.ts$/.test(process.argv[1] ?? '');

/** The command line that runs `command`, ready for its arguments. */
export function commandLine(command: string): string {
  return fromClone ? `npm run ${command} --` : `distroless-contents ${command}`;
}

/** True when run from a clone, where the repository's own scripts (npm run engine) are at hand. */
export function runFromClone(): boolean {
  return fromClone;
}

/** The command alone: `npm run cleanup`, `distroless-contents cleanup`. */
export function commandName(command: string): string {
  return fromClone ? `npm run ${command}` : `distroless-contents ${command}`;
}
