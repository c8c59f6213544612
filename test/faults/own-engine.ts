import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
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
  /** SIGKILL to dockerd alone: its containerd, shims and mounts stay, as after a crash. */
  kill(): void;
  /** Kills what is left of it (dockerd, its containerd and shims), unmounts what it mounted, removes its folder. */
  remove(): Promise<void>;
}

/** Which engine to start: the installed dockerd by default, or another release's (the Docker 26 one, say). */
export interface OwnEngineOptions {
  /**
   * The dockerd to run.
   * @default 'dockerd' (from PATH)
   */
  readonly dockerd?: string;
  /**
   * A folder whose `bin` holds that release's own containerd, containerd-shim and runc: put first on PATH, so
   * dockerd starts those and not the installed ones. Unset: the installed ones.
   */
  readonly root?: string;
}

export async function startOwnEngine(options: OwnEngineOptions = {}): Promise<OwnEngine> {
  // Short: containerd's socket lives under the exec root, and unix socket paths are limited to 108 bytes.
  const dir = await mkdtemp(join(tmpdir(), 'dc-eng-'));
  const host = `unix://${join(dir, 'docker.sock')}`;
  const log = join(dir, 'dockerd.log');
  await mkdir(join(dir, 'data'));
  const bridge = await createEngineBridge();
  const daemon: ResultPromise = execa(
    options.dockerd ?? 'dockerd',
    [
      '--data-root',
      join(dir, 'data'),
      '--exec-root',
      join(dir, 'exec'),
      '--pidfile',
      join(dir, 'dockerd.pid'),
      '-H',
      host,
      // A bridge of its own (--bridge=none would delete the main engine's docker0), no iptables rules.
      `--bridge=${bridge.name}`,
      '--iptables=false',
      '--ip-forward=false',
      '--ip-masq=false',
    ],
    {
      stdin: 'ignore',
      stdout: { file: log },
      stderr: { file: log },
      reject: false,
      ...(options.root && { env: { PATH: `${join(options.root, 'bin')}:${process.env.PATH}` } }),
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
    kill() {
      daemon.kill('SIGKILL');
    },
    async remove() {
      // Everything that runs on its behalf names its folder: dockerd, containerd, containerd-shim.
      for (const pid of await processesNaming(dir)) {
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
