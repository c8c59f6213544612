import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { createEngineBridge } from '../support/engine-bridge.js';
import { waitFor } from '../support/free-port.js';

/**
 * A Docker engine of the test's own, on its own socket, data root and exec root, that the test may kill:
 * the main engine and everyone's work on it stay untouched.
 */
export interface OwnEngine {
  /** `unix:///tmp/…/docker.sock`. */
  readonly host: string;
  readonly dir: string;
  /** Copies an image of the main engine into this one (docker save | docker load). */
  copyImage(image: string): Promise<void>;
  /** containerd's snapshots and leases below the engine, with the containerd image store; else nothing. */
  storeInventory(): Promise<{ snapshots?: string[]; leases?: string[] }>;
  /** SIGKILL to dockerd alone: its containerd, shims and mounts stay, as after a crash. */
  kill(): void;
  /** Kills what is left of it (dockerd, its containerd and shims), unmounts what it mounted, removes its folder. */
  remove(): Promise<void>;
}

/** Which engine to start: the installed dockerd by default, or the one a Debian root of its own holds. */
export interface OwnEngineOptions {
  /**
   * A Debian root with its own docker.io (the Docker 26 one of scripts/lib/modern-engine.mjs, already
   * bind-mounted onto itself with /proc, /sys and /dev): dockerd runs chrooted into it, with the containerd
   * image store, as that release ships. Its runc needs that root's glibc, so PATH alone cannot pick it.
   * Unset: the installed dockerd, with its own store.
   */
  readonly root?: string;
}

export async function startOwnEngine(options: OwnEngineOptions = {}): Promise<OwnEngine> {
  // Short: containerd's socket lives under the exec root, and unix socket paths are limited to 108 bytes.
  const root = options.root ?? '';
  const dir = await mkdtemp(join(root, tmpdir(), 'dc-eng-'));
  // What dockerd sees: the same folder, below the root it is chrooted into.
  const inside = dir.slice(root.length);
  const host = `unix://${join(dir, 'docker.sock')}`;
  const log = join(dir, 'dockerd.log');
  await mkdir(join(dir, 'data'));
  const bridge = await createEngineBridge();
  const args = [
    '--data-root',
    join(inside, 'data'),
    '--exec-root',
    join(inside, 'exec'),
    '--pidfile',
    join(inside, 'dockerd.pid'),
    '-H',
    `unix://${join(inside, 'docker.sock')}`,
    // A bridge of its own (--bridge=none would delete the main engine's docker0), no iptables rules.
    `--bridge=${bridge.name}`,
    '--iptables=false',
    '--ip6tables=false',
    '--ip-forward=false',
    '--ip-masq=false',
  ];
  if (root) {
    await writeFile(
      join(dir, 'daemon.json'),
      JSON.stringify({ features: { 'containerd-snapshotter': true } }),
    );
    args.unshift('--config-file', join(inside, 'daemon.json'));
  }
  const daemon: ResultPromise = execa(
    root ? 'chroot' : 'dockerd',
    root ? [root, '/usr/sbin/dockerd', ...args] : args,
    {
      stdin: 'ignore',
      stdout: { file: log },
      stderr: { file: log },
      reject: false,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    },
  );
  let exited = false;
  void daemon.finally(() => {
    exited = true;
  });
  const env = { DOCKER_HOST: host, DOCKER_CONTEXT: '' };
  const engine: OwnEngine = {
    host,
    dir,
    async copyImage(image) {
      // Through the shell: hundreds of megabytes need not pass through this process.
      await execa(
        'bash',
        [
          '-o',
          'pipefail',
          '-c',
          'docker save "$1" | DOCKER_HOST="$2" docker load --quiet',
          'copy',
          image,
          host,
        ],
        { env: { DOCKER_CONTEXT: '' } },
      );
    },
    async storeInventory() {
      if (!root) return {};
      const ctr = async (...what: string[]) => {
        const address = join(inside, 'exec', 'containerd', 'containerd.sock');
        const { stdout } = await execa('chroot', [root, 'ctr', '--address', address, '-n', 'moby', ...what]);
        return stdout.split('\n').filter(Boolean).sort();
      };
      // One line per lease: ID, creation time, labels (the header line sorts after them and is dropped).
      const leases = (await ctr('leases', 'ls')).filter((line) => !line.startsWith('ID '));
      return {
        snapshots: await ctr('snapshots', 'ls'),
        leases: leases.map((line) => line.split(/\s+/).join(' ')),
      };
    },
    kill() {
      daemon.kill('SIGKILL');
    },
    async remove() {
      // Everything that runs on its behalf names its folder: dockerd, containerd, containerd-shim.
      for (const pid of await processesNaming(inside)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
      await daemon;
      await unmountBelow(dir);
      await rm(dir, { recursive: true, force: true });
      await bridge.remove();
    },
  };
  try {
    await waitFor(
      `dockerd on ${host}`,
      async () => (await execa('docker', ['version'], { env, reject: false })).exitCode === 0,
      () => (exited ? 'it exited' : undefined),
    );
  } catch (error) {
    const said = await readFile(log, 'utf8').catch(() => '');
    await engine.remove();
    throw new Error(`${(error as Error).message}; dockerd said:\n${said.split('\n').slice(-15).join('\n')}`);
  }
  return engine;
}

async function processesNaming(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dir)) pids.push(Number(name));
  }
  return pids;
}

/** Unmounts every mount point below `dir`, deepest first (overlays of containers, network namespaces). */
async function unmountBelow(dir: string): Promise<void> {
  const { stdout } = await execa('findmnt', ['--list', '--noheadings', '--output', 'TARGET'], {
    reject: false,
  });
  const targets = stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((target) => target.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const target of targets) {
    const result = await execa('umount', [target], { reject: false });
    if (result.exitCode !== 0) await execa('umount', ['-l', target]);
  }
}
