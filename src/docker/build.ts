import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { DockerError } from '../errors.js';
import { daemonMessage } from './client.js';
import { followStream, StreamEventError } from './stream.js';

export interface BuildOptions {
  /** Its first step after FROM should be a LABEL: every later step's image and container then carries it. */
  readonly dockerfile: string;
  readonly tag?: string | undefined;
  readonly platform?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Receives the build's own output, line by line. */
  readonly onOutput?: ((line: string) => void) | undefined;
  /** Receives each container and intermediate image the build reports making, as it reports it. */
  readonly onCreated?: ((resource: BuildResource) => void) | undefined;
}

/** A container (` ---> Running in …`) or an image (` ---> …` after a step) the legacy builder made. */
export interface BuildResource {
  readonly kind: 'container' | 'image';
  /** The short ID the builder prints; the engine accepts it wherever an ID is expected. */
  readonly id: string;
}

/**
 * How long an aborted build may go on before its stream is cut. The legacy builder only notices a client that
 * went away between steps: a COPY under way then still commits its image, after any cleanup the client did.
 */
export const BUILD_STOP_TIMEOUT_MS = 120_000;

/**
 * Builds a one-file context with the legacy builder (which resolves `COPY --from` from local images) and
 * returns the image ID. An abort does not cut the build: its stream is read to the end (within
 * {@link BUILD_STOP_TIMEOUT_MS}), so that every image it makes exists, and can be removed, when this returns.
 */
export async function buildImage(docker: Docker, options: BuildOptions): Promise<string> {
  const context = tar.pack();
  context.entry({ name: 'Dockerfile', mode: 0o644 }, options.dockerfile);
  context.finalize();
  let imageId: string | undefined;
  const created = createdResources(options.onCreated);
  const { signal } = options;
  let giveUp: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const stream = (await docker.buildImage(
      context as unknown as NodeJS.ReadableStream,
      {
        version: '1',
        pull: false,
        // The builder's cache would share intermediate images between concurrent runs, and one run's
        // cleanup would then delete a parent another run is building on ("unknown parent image ID").
        nocache: true,
        rm: true,
        forcerm: true,
        ...(options.tag && { t: options.tag }),
        ...(options.platform && { platform: options.platform }),
      } as Docker.ImageBuildOptions,
    )) as Readable;
    onAbort = () => {
      giveUp = setTimeout(() => stream.destroy(), BUILD_STOP_TIMEOUT_MS);
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    await followStream(stream, undefined, (event) => {
      if (event.aux?.ID) imageId = event.aux.ID;
      if (event.stream) {
        for (const line of event.stream.split('\n')) {
          if (!line.trim()) continue;
          created(line);
          options.onOutput?.(line.trimEnd());
        }
        imageId ??= /^Successfully built ([0-9a-f]+)/m.exec(event.stream)?.[1];
      }
    });
  } catch (error) {
    signal?.throwIfAborted();
    const reason = error instanceof StreamEventError ? error.message : daemonMessage(error);
    throw new DockerError('BUILD_FAILED', `docker build failed: ${reason}`, { cause: error });
  } finally {
    clearTimeout(giveUp);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
  signal?.throwIfAborted();
  if (!imageId) throw new DockerError('BUILD_FAILED', 'docker build ended without reporting an image ID.');
  return imageId;
}

/**
 * Reads the IDs the legacy builder prints. The ` ---> ID` after a FROM step is the base image, which the
 * run did not make and must not remove.
 */
export function createdResources(onCreated: BuildOptions['onCreated']): (line: string) => void {
  let afterFrom = false;
  return (line) => {
    if (/^Step \d+\/\d+ : FROM /i.test(line)) {
      afterFrom = true;
      return;
    }
    const container = /^ ---> Running in ([0-9a-f]{12,64})\s*$/.exec(line)?.[1];
    if (container) onCreated?.({ kind: 'container', id: container });
    const image = /^ ---> ([0-9a-f]{12,64})\s*$/.exec(line)?.[1];
    if (!image) return;
    if (afterFrom) afterFrom = false;
    else onCreated?.({ kind: 'image', id: image });
  };
}
