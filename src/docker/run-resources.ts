import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { RUN_LABEL } from '../labels.js';
import type { BuildResource } from './build.js';
import { removeContainer, removeImage } from './container.js';

/** How long a sweep goes on finding new things before it gives up. */
const SWEEP_TIMEOUT_MS = 60_000;
/** Two sweeps this far apart that find nothing: the engine has stopped making things for the run. */
const SETTLE_MS = 500;

/**
 * What one run made on the engine. Everything carries the run's label (the generated Dockerfile labels its
 * first step, so every later step's image and container inherits it); the IDs the build stream reports are
 * kept too, so that an image is removed even where a label did not reach it.
 */
export class RunResources {
  readonly labels: Readonly<Record<string, string>>;
  private readonly containers = new Set<string>();
  private readonly images: string[] = [];
  /** A build failed or was cut short: the engine may still be finishing its current step. */
  private buildCut = false;

  constructor(labels: Readonly<Record<string, string>>) {
    this.labels = labels;
  }

  track(resource: BuildResource): void {
    if (resource.kind === 'container') this.containers.add(resource.id);
    else this.images.push(resource.id);
  }

  /** The engine may go on building after its stream is gone: the legacy builder only stops between steps. */
  buildInterrupted(): void {
    this.buildCut = true;
  }

  /**
   * Removes the run's containers and (unless kept) images, children first. After a failed or cut build it
   * sweeps once more after a pause, for a step the engine was still finishing.
   * Returns the errors instead of throwing, so the caller decides whether they may surface.
   */
  async remove(docker: Docker, options: { readonly keepImage: boolean }): Promise<unknown[]> {
    const errors: unknown[] = [];
    try {
      const deadline = Date.now() + SWEEP_TIMEOUT_MS;
      let quiet = 0;
      for (;;) {
        const found = await this.sweep(docker, options.keepImage);
        if (!this.buildCut) break;
        quiet = found === 0 ? quiet + 1 : 0;
        if (quiet >= 2) break;
        if (Date.now() > deadline) {
          throw new Error(
            `the engine was still making images for run ${this.labels[RUN_LABEL]} after ${SWEEP_TIMEOUT_MS / 1000} s`,
          );
        }
        await sleep(SETTLE_MS);
      }
    } catch (error) {
      errors.push(error);
    }
    return errors;
  }

  /** One pass; returns how many labelled resources it found. */
  private async sweep(docker: Docker, keepImage: boolean): Promise<number> {
    const filters = JSON.stringify({ label: [`${RUN_LABEL}=${this.labels[RUN_LABEL]}`] });
    const containers = await docker.listContainers({ all: true, filters });
    for (const id of new Set([...containers.map((container) => container.Id), ...this.containers])) {
      await removeContainer(docker, id);
    }
    this.containers.clear();
    if (keepImage) return containers.length;
    const images = await docker.listImages({ all: true, filters });
    const parents = new Set(images.map((image) => image.ParentId));
    // Children first: the engine refuses to remove an intermediate image while its child exists (409), and
    // removing the child prunes its untagged parents anyway (later ones then answer 404).
    const ordered = [
      ...images.filter((image) => !parents.has(image.Id)).map((image) => image.Id),
      ...images.filter((image) => parents.has(image.Id)).map((image) => image.Id),
      // The build's own report, newest (the leaves) first.
      ...this.images.reverse(),
    ];
    this.images.length = 0;
    for (const id of ordered) await removeImage(docker, id);
    return containers.length + images.length;
  }
}
