import Dockerode from 'dockerode';
import { execa } from 'execa';
import { MODERN_HOST } from '../../scripts/lib/modern-engine.mjs';
import { type PodmanService, startPodmanService } from './podman-service.js';

// The engines an end-to-end fidelity test runs on: what users run, not only Debian 12's engine.

export type EngineName = 'docker-20.10' | 'docker-26-containerd' | 'podman';

export const ENGINE_NAMES: readonly EngineName[] = ['docker-20.10', 'docker-26-containerd', 'podman'];

export interface TestEngine {
  readonly name: EngineName;
  /** `unix://…`: what DOCKER_HOST names for the tool and the docker CLI. */
  readonly host: string;
  /** Environment for the tool and the docker CLI (DOCKER_CONTEXT cleared, so no context overrides the host). */
  readonly env: Readonly<Record<string, string>>;
  /** A client for the library's `docker` option and for the test's own checks. */
  readonly docker: Dockerode;
  /** How an image enters this engine from the main one. */
  load(images: readonly string[]): Promise<void>;
  /** Stops what opening the engine started (the podman service); the Docker engines outlive the test. */
  close(): Promise<void>;
}

const MAIN_HOST = 'unix:///var/run/docker.sock';

/**
 * Opens the engine: the main one and the modern one are up since the global setup; podman's service is
 * started here, on storage of its own that goes with `close()`.
 */
export async function openEngine(name: EngineName): Promise<TestEngine> {
  if (name === 'podman') return podmanEngine(await startPodmanService());
  const host = name === 'docker-20.10' ? MAIN_HOST : MODERN_HOST;
  const env = { DOCKER_HOST: host, DOCKER_CONTEXT: '' };
  return {
    name,
    host,
    env,
    docker: new Dockerode({ socketPath: socketOf(host) }),
    async load(images) {
      if (name === 'docker-20.10') return;
      // Loaded and never unpacked, as a user's `docker load` leaves them: the tool must cope (unpack-image.ts).
      await pipeSave(images, 'docker', ['load', '--quiet'], env);
    },
    async close() {},
  };
}

function podmanEngine(service: PodmanService): TestEngine {
  const env = { DOCKER_HOST: service.host, DOCKER_CONTEXT: '' };
  return {
    name: 'podman',
    host: service.host,
    env,
    docker: new Dockerode({ socketPath: socketOf(service.host) }),
    async load(images) {
      await pipeSave(images, 'podman', [...service.cliArgs, 'load', '--quiet'], service.cliEnv);
    },
    close: () => service.stop(),
  };
}

/**
 * Copies images from the main engine (where docker/build-test-images.mjs builds them) into `engine`, once:
 * a tag the engine already holds with the same layers and config is left alone. (Not by ID: the containerd
 * store's image ID is its manifest's digest, which `docker load` writes anew.)
 */
export async function copyImages(engine: TestEngine, images: readonly string[]): Promise<void> {
  const main = new Dockerode({ socketPath: socketOf(MAIN_HOST) });
  const missing: string[] = [];
  for (const image of images) {
    const want = identity(await main.getImage(image).inspect());
    const have = await engine.docker
      .getImage(image)
      .inspect()
      .then(identity, () => undefined);
    if (have !== want) missing.push(image);
  }
  if (missing.length > 0) await engine.load(missing);
}

function identity(image: Dockerode.ImageInspectInfo): string {
  return JSON.stringify([image.RootFS.Layers, image.Config.Labels, image.Config.Env, image.Config.Cmd]);
}

/** `docker save` on the main engine piped into a loader (`docker load` or `podman load`). */
async function pipeSave(
  images: readonly string[],
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): Promise<void> {
  const saved = execa('docker', ['save', ...images], {
    encoding: 'buffer',
    env: { DOCKER_HOST: MAIN_HOST, DOCKER_CONTEXT: '' },
  });
  await saved.pipe(command, args, { env: { ...process.env, ...env } });
}

function socketOf(host: string): string {
  return host.slice('unix://'.length);
}
