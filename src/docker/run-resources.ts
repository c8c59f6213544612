import type Docker from 'dockerode';
import { RUN_LABEL } from '../labels.js';
import { removeContainer, removeImage } from './container.js';

/**
 * Removes the containers and (unless kept) images of one run, found by its run label, so that even an image
 * whose build was interrupted before it reported its ID goes. Returns the errors instead of throwing, so the
 * caller decides whether they may surface.
 */
export async function removeRunResources(
  docker: Docker,
  labels: Readonly<Record<string, string>>,
  options: { readonly keepImage: boolean },
): Promise<unknown[]> {
  const filters = JSON.stringify({ label: [`${RUN_LABEL}=${labels[RUN_LABEL]}`] });
  const errors: unknown[] = [];
  try {
    for (const container of await docker.listContainers({ all: true, filters })) {
      await removeContainer(docker, container.Id);
    }
    if (!options.keepImage) {
      for (const image of await docker.listImages({ all: true, filters }))
        await removeImage(docker, image.Id);
    }
  } catch (error) {
    errors.push(error);
  }
  return errors;
}
