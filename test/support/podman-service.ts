import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { execa, type ResultPromise } from 'execa';
import { waitFor } from './free-port.js';

/** `podman system service` on a socket of its own, with storage of its own, serving the Docker API. */
export interface PodmanService {
  /** `unix:///…/podman.sock`, for DOCKER_HOST. */
  readonly host: string;
  /** Arguments and environment that point the podman CLI at the service's storage and configuration. */
  readonly cliArgs: readonly string[];
  readonly cliEnv: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

export async function startPodmanService(): Promise<PodmanService> {
  const dir = await mkdtemp(join(tmpdir(), 'dc-podman-'));
  const socket = join(dir, 'podman.sock');
  const logFile = join(dir, 'service.log');
  // Apart from /var/lib/containers: nothing of the test outlives it.
  const storage = ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run')];
  const env = { CONTAINERS_CONF: join(dir, 'containers.conf') };
  let service: ResultPromise | undefined;
  const stop = async () => {
    service?.kill('SIGTERM');
    await service?.catch(() => {});
    await unmountBelow(dir);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await writeFile(env.CONTAINERS_CONF, await containersConf());
    service = execa('podman', [...storage, 'system', 'service', '--time=0', `unix://${socket}`], {
      env,
      stdin: 'ignore',
      stdout: { file: logFile },
      stderr: { file: logFile },
    });
    let exited = false;
    service
      .finally(() => {
        exited = true;
      })
      .catch(() => {});
    const client = new Dockerode({ socketPath: socket });
    await waitFor(
      `podman system service on ${socket}`,
      async () => Boolean(await client.ping()),
      () => (exited ? 'it exited' : undefined),
    );
    return { host: `unix://${socket}`, cliArgs: storage, cliEnv: env, stop };
  } catch (error) {
    const log = await readFile(logFile, 'utf8').catch(() => '');
    await stop();
    throw new Error(`${(error as Error).message}; podman said:\n${log.split('\n').slice(-15).join('\n')}`, {
      cause: error,
    });
  }
}

/**
 * As root podman asks for 1048576 open files and processes per container; without CAP_SYS_RESOURCE (as on
 * these machines) runc may not raise its limits that far and every container fails to start ("error setting
 * rlimits"). Ask for what the service itself has: the hard limits, processes capped at pid_max, which podman
 * lowers its own limit to (seen here).
 */
async function containersConf(): Promise<string> {
  const limits = await readFile('/proc/self/limits', 'utf8');
  const hard = (name: string) => {
    const value = new RegExp(`^${name}\\s+\\S+\\s+(\\S+)`, 'm').exec(limits)?.[1] ?? 'unlimited';
    return value === 'unlimited' ? 1048576 : Number(value);
  };
  const pidMax = Number((await readFile('/proc/sys/kernel/pid_max', 'utf8')).trim());
  const nofile = hard('Max open files');
  const nproc = Math.min(hard('Max processes'), pidMax);
  return `[containers]\ndefault_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]\n`;
}

/** Overlay mounts a killed service may leave under its storage, deepest first. */
async function unmountBelow(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mounts', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((point) => point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) await execa('umount', ['--lazy', point], { reject: false });
}
