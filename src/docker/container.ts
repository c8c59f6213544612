import type Docker from 'dockerode';
import { DockerError } from '../errors.js';
import { daemonMessage, statusCode } from './client.js';

/** Removes a container, tolerating one that is already gone. */
export async function removeContainer(docker: Docker, id: string): Promise<void> {
  try {
    await docker.getContainer(id).remove({ force: true, v: true });
  } catch (error) {
    if (statusCode(error) !== 404) throw error;
  }
}

/** Removes an image and its now-unused parents, tolerating one that is already gone. */
export async function removeImage(docker: Docker, id: string): Promise<void> {
  try {
    await docker.getImage(id).remove({ force: true });
  } catch (error) {
    if (statusCode(error) !== 404) throw error;
  }
}

/** Maps a failed container start to a clear line; a missing /bin/sh means the base image is unfit. */
export function startError(error: unknown, base: string): DockerError {
  const message = daemonMessage(error);
  if (/\/bin\/sh.*(no such file|not found)|executable file not found/i.test(message)) {
    return new DockerError(
      'BASE_WITHOUT_SHELL',
      `Base image ${base} has no /bin/sh to run (${message}); pick a base with a shell via --base, e.g. alpine:3.20.3.`,
      { cause: error },
    );
  }
  return new DockerError('CONTAINER_FAILED', `Could not start the container: ${message}`, { cause: error });
}
