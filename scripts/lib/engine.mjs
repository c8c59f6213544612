// Makes sure a Docker engine answers; on Debian as root, installs and starts Debian's docker.io
// (no engine runs on a fresh machine of this kind, and no registry is reachable).
import { existsSync } from 'node:fs';
import { $, sleep, which } from 'zx';

const LOG = '/var/log/distroless-contents-dockerd.log';

export async function engineAnswers() {
  return (await $({ nothrow: true, quiet: true })`docker info --format {{.ServerVersion}}`).exitCode === 0;
}

/** Resolves when `docker info` answers; throws one line saying what to do when it cannot make that so. */
export async function ensureEngine({ log = (line) => console.error(line) } = {}) {
  if (await engineAnswers()) return;
  if (process.env.DOCKER_HOST) {
    throw new Error(
      `No Docker engine answers at DOCKER_HOST=${process.env.DOCKER_HOST}; start it or unset DOCKER_HOST.`,
    );
  }
  const root = process.getuid?.() === 0;
  if (!root || !existsSync('/usr/bin/apt-get')) {
    throw new Error(
      'No Docker engine answers at /var/run/docker.sock; start one (sudo dockerd, or sudo npm run engine on Debian) and make sure this user can reach it (docker group).',
    );
  }
  if (!(await which('dockerd', { nothrow: true }))) {
    log('installing Debian docker.io (apt-get)…');
    await $`apt-get update -qq`;
    await $({ env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })`apt-get install -y -qq docker.io`;
  }
  log(`starting dockerd (log: ${LOG})…`);
  await $`nohup dockerd > ${LOG} 2>&1 &`;
  for (let waited = 0; waited < 60; waited++) {
    if (await engineAnswers()) return;
    await sleep(1000);
  }
  throw new Error(`dockerd did not answer within 60 s; see ${LOG}.`);
}
