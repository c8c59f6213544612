// Installs the Debian packages behind the commands the tests drive (tmux for the interactive shell,
// chromium for the report page), when root on Debian; otherwise says what to install.
import { existsSync } from 'node:fs';
import { $, which } from 'zx';

/** @param {Record<string, string>} commands command name -> Debian package providing it */
export async function ensureCommands(commands, { log = (line) => console.error(line) } = {}) {
  const missing = [];
  for (const [command, pkg] of Object.entries(commands)) {
    if (!(await which(command, { nothrow: true }))) missing.push(pkg);
  }
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    throw new Error(
      `The tests need these Debian packages: ${missing.join(' ')}; install them (sudo apt-get install ${missing.join(' ')}).`,
    );
  }
  log(`installing ${missing.join(' ')} (apt-get)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if ((await $({ nothrow: true, quiet: true, env })`apt-get install -y -qq ${missing}`).exitCode !== 0) {
    await $({ quiet: true })`apt-get update -qq`;
    await $({ quiet: true, env })`apt-get install -y -qq ${missing}`;
  }
}
