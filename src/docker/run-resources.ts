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
      const images = await docker.listImages({ all: true, filters });
      const parents = new Set(images.map((image) => image.ParentId));
      // Children first: the engine refuses to remove a labelled intermediate image while its child exists
      // (409), and removing the child prunes its untagged parents anyway (later ones then answer 404).
      for (const image of images.filter((image) => !parents.has(image.Id)))
        await removeImage(docker, image.Id);
      for (const image of images.filter((image) => parents.has(image.Id)))
        await removeImage(docker, image.Id);
    }
  } catch (error) {
    errors.push(error);
  }
  return errors;
}
