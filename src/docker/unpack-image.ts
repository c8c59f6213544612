import type Docker from 'dockerode';
import { usesContainerdStore } from './engine-kind.js';

/**
 * Makes sure the engine holds `imageId` unpacked, where that matters: on the containerd image store the
 * legacy builder's `COPY --from` fails with "parent snapshot … does not exist" for an image that
 * `docker load` stored and no container ever unpacked. Creating a container (never started) unpacks it;
 * it carries the run's labels, so that an interrupted run's clean-up finds it, and goes at once.
 */
export async function ensureUnpacked(
  docker: Docker,
  imageId: string,
  labels: Readonly<Record<string, string>>,
): Promise<void> {
  if (!(await usesContainerdStore(docker))) return;
  // A command is needed even though nothing runs: images such as distroless static have none.
  const container = await docker.createContainer({
    Image: imageId,
    Cmd: ['/nonexistent'],
    Labels: { ...labels },
    HostConfig: { NetworkMode: 'none' },
  });
  await container.remove({ force: true });
}
