import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { DockerError } from '../errors.js';
import { daemonMessage } from './client.js';
import { followStream, StreamEventError } from './stream.js';

export interface BuildOptions {
  readonly dockerfile: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly tag?: string | undefined;
  readonly platform?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Receives the build's own output, line by line. */
  readonly onOutput?: ((line: string) => void) | undefined;
}

/** Builds a one-file context with the legacy builder (which resolves `COPY --from` from local images) and returns the image ID. */
export async function buildImage(docker: Docker, options: BuildOptions): Promise<string> {
  const context = tar.pack();
  context.entry({ name: 'Dockerfile', mode: 0o644 }, options.dockerfile);
  context.finalize();
  let imageId: string | undefined;
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
        labels: { ...options.labels },
        ...(options.tag && { t: options.tag }),
        ...(options.platform && { platform: options.platform }),
      } as Docker.ImageBuildOptions,
    )) as Readable;
    await followStream(stream, options.signal, (event) => {
      if (event.aux?.ID) imageId = event.aux.ID;
      if (event.stream) {
        for (const line of event.stream.split('\n')) if (line.trim()) options.onOutput?.(line.trimEnd());
        imageId ??= /^Successfully built ([0-9a-f]+)/m.exec(event.stream)?.[1];
      }
    });
  } catch (error) {
    options.signal?.throwIfAborted();
    const reason = error instanceof StreamEventError ? error.message : daemonMessage(error);
    throw new DockerError('BUILD_FAILED', `docker build failed: ${reason}`, { cause: error });
  }
  if (!imageId) throw new DockerError('BUILD_FAILED', 'docker build ended without reporting an image ID.');
  return imageId;
}
