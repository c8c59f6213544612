// A second, current Docker engine for the tests: Debian 13's docker.io (26.x) with the containerd image
// store, in a debootstrapped root of its own, on its own socket, data root and bridge. Users run engines
// like this one; the main engine (Debian 12's 20.10) is not what most of them see.
import { existsSync } from 'node:fs';
import { mkdir, readFile, readlink, rename, rm, writeFile } from 'node:fs/promises';
import { $, sleep } from 'zx';
import { withBuildLock } from '../../docker/build-lock.mjs';

/** The cached root (built once per machine; a fresh machine builds it in about 45 s). */
export const MODERN_ROOT = '/var/cache/distroless-contents/docker-trixie';
/** Where the engine's socket is seen from the host (it listens on /run/modern/docker.sock inside the root). */
export const MODERN_SOCKET = `${MODERN_ROOT}/run/modern/docker.sock`;
/** For DOCKER_HOST. */
export const MODERN_HOST = `unix://${MODERN_SOCKET}`;
/** Never `--bridge=none`: a dockerd started so in the host's network namespace deletes the main engine's docker0. */
export const MODERN_BRIDGE = 'dcbr-modern';

const MIRROR = 'http://deb.debian.org/debian';
const LOG = '/var/log/distroless-contents-dockerd-modern.log';
const CONFIG = '/etc/distroless-contents/daemon.json';
const PIDFILE = '/run/modern/docker.pid';
const CONTAINERD_PIDFILE = '/run/modern/exec/containerd/containerd.pid';

async function dockerInfo(format) {
  const result = await $({ nothrow: true, quiet: true })`docker -H ${MODERN_HOST} info --format ${format}`;
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

/** Resolves once the modern engine answers on MODERN_HOST; throws one line saying what went wrong otherwise. */
export async function ensureModernEngine({ log = (line) => console.error(line) } = {}) {
  if (!(await dockerInfo('{{.ServerVersion}}'))) {
    if (process.getuid?.() !== 0) {
      throw new Error(
        `No modern Docker engine answers at ${MODERN_HOST}; run the tests as root (the setup builds and starts it).`,
      );
    }
    await withBuildLock(async () => {
      if (await dockerInfo('{{.ServerVersion}}')) return;
      if (!existsSync(`${MODERN_ROOT}/usr/sbin/dockerd`)) await buildRoot(log);
      await startEngine(log);
    }, log);
  }
  await checkEngine();
}

/** debootstrap into a temporary name, renamed when complete, so an interrupted build is never taken for the cache. */
async function buildRoot(log) {
  if (!existsSync('/usr/sbin/debootstrap')) {
    log('installing debootstrap (apt-get)…');
    await $({
      quiet: true,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    })`apt-get install -y -qq debootstrap`;
  }
  const partial = `${MODERN_ROOT}.partial`;
  await removeRoot(partial);
  await rm(MODERN_ROOT, { recursive: true, force: true });
  log(`building a Debian 13 root with docker.io at ${MODERN_ROOT} (debootstrap, about a minute)…`);
  await mkdir(partial, { recursive: true });
  const built = await $({
    nothrow: true,
    quiet: true,
  })`debootstrap --variant=minbase --include=docker.io,ca-certificates,iptables trixie ${partial} ${MIRROR}`;
  if (built.exitCode !== 0) {
    const tail = built.stderr.trim().split('\n').slice(-3).join(' | ');
    await removeRoot(partial);
    throw new Error(
      `debootstrap of Debian 13 with docker.io failed (${tail}); check that ${MIRROR} is reachable.`,
    );
  }
  await rename(partial, MODERN_ROOT);
}

/** An interrupted debootstrap may leave its /proc and /sys mounted inside the target. */
async function removeRoot(dir) {
  for (const point of (await mountPoints()).filter((p) => p.startsWith(`${dir}/`)).reverse()) {
    await $({ nothrow: true, quiet: true })`umount --lazy ${point}`;
  }
  await rm(dir, { recursive: true, force: true });
}

async function startEngine(log) {
  const mounts = await mountPoints();
  // runc fails with "mount /, flags: 0x84000: invalid argument" unless the root is a mount point.
  if (!mounts.includes(MODERN_ROOT)) {
    await $`mount --bind ${MODERN_ROOT} ${MODERN_ROOT}`;
    await $`mount --make-private ${MODERN_ROOT}`;
  }
  // Not /run: that would share the host's, with the main engine's socket in it.
  for (const dir of ['proc', 'sys', 'dev']) {
    if (mounts.includes(`${MODERN_ROOT}/${dir}`)) continue;
    await $`mount --rbind /${dir} ${MODERN_ROOT}/${dir}`;
    await $`mount --make-rslave ${MODERN_ROOT}/${dir}`;
  }
  if (!(await bridgeExists(MODERN_BRIDGE))) {
    await $`ip link add name ${MODERN_BRIDGE} type bridge`;
  }
  await $`ip link set ${MODERN_BRIDGE} up`;
  await mkdir(`${MODERN_ROOT}/etc/distroless-contents`, { recursive: true });
  await writeFile(
    `${MODERN_ROOT}${CONFIG}`,
    `${JSON.stringify({ features: { 'containerd-snapshotter': true } })}\n`,
  );
  await clearStaleState();
  log(`starting Docker 26 with the containerd image store at ${MODERN_HOST} (log: ${LOG})…`);
  const hostBridge = await bridgeExists('docker0');
  const env = { ...process.env, PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
  await $({
    env,
  })`nohup chroot ${MODERN_ROOT} /usr/sbin/dockerd --config-file ${CONFIG} --data-root /var/lib/docker-modern --exec-root /run/modern/exec --pidfile ${PIDFILE} -H unix:///run/modern/docker.sock --iptables=false --ip6tables=false --bridge=${MODERN_BRIDGE} > ${LOG} 2>&1 &`;
  for (let waited = 0; waited < 90; waited++) {
    if (await dockerInfo('{{.ServerVersion}}')) {
      if (hostBridge && !(await bridgeExists('docker0'))) {
        throw new Error(`starting the modern dockerd deleted the main engine's docker0; see ${LOG}.`);
      }
      return;
    }
    await sleep(1000);
  }
  const tail = (await readFile(LOG, 'utf8').catch(() => '')).trim().split('\n').slice(-3).join(' | ');
  throw new Error(`the modern dockerd did not answer within 90 s (${tail}); see ${LOG}.`);
}

/** The root's /run is on disk, so a reboot or a killed engine leaves a pid file and socket that would stop a new one. */
async function clearStaleState() {
  const pid = await livePid(PIDFILE);
  if (pid) {
    throw new Error(
      `a modern dockerd (pid ${pid}) runs but does not answer at ${MODERN_HOST}; see ${LOG}, stop it and rerun.`,
    );
  }
  await rm(`${MODERN_ROOT}${PIDFILE}`, { force: true });
  await rm(MODERN_SOCKET, { force: true });
  // A containerd that outlived its dockerd is reused by the next one; only a dead one's pid file goes.
  if (!(await livePid(CONTAINERD_PIDFILE))) await rm(`${MODERN_ROOT}${CONTAINERD_PIDFILE}`, { force: true });
}

/** The pid a pid file of the root names, when that process is alive and runs in the root (pids are reused after a reboot). */
async function livePid(pidfile) {
  const pid = Number((await readFile(`${MODERN_ROOT}${pidfile}`, 'utf8').catch(() => '')).trim());
  if (!(pid > 0)) return undefined;
  const root = await readlink(`/proc/${pid}/root`).catch(() => '');
  return root === MODERN_ROOT ? pid : undefined;
}

async function checkEngine() {
  const version = await dockerInfo('{{.ServerVersion}}');
  const status = await dockerInfo('{{json .DriverStatus}}');
  if (!version?.startsWith('26.') || !status?.includes('io.containerd.snapshotter.v1')) {
    throw new Error(
      `the engine at ${MODERN_HOST} is ${version} with storage ${status}, not Docker 26 with the containerd image store; stop it and rerun.`,
    );
  }
}

async function bridgeExists(name) {
  return (await $({ nothrow: true, quiet: true })`ip link show ${name}`).exitCode === 0;
}

async function mountPoints() {
  const lines = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n');
  return lines.map((line) => line.split(' ')[4] ?? '').filter(Boolean);
}
