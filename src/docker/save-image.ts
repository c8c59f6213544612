import type { Readable } from 'node:stream';
import type Docker from 'dockerode';

/**
 * `docker save` of one image (GET /images/ID/get) as a stream. Not dockerode's `image.get()`, which takes
 * no signal: an engine says nothing until it has copied every layer (tens of seconds for a few GiB), and an
 * abort must end the request during that silence too.
 */
export async function saveImage(docker: Docker, id: string, signal?: AbortSignal): Promise<Readable> {
  signal?.throwIfAborted();
  const stream = await new Promise<Readable>((resolve, reject) => {
    docker.modem.dial(
      {
        // The ID, not the name: the modem does not URL-encode names.
        path: `/images/${id}/get`,
        method: 'GET',
        isStream: true,
        ...(signal && { abortSignal: signal }),
        statusCodes: { 200: true, 404: 'no such image', 500: 'server error' },
      },
      (error: unknown, data: unknown) => (error ? reject(error) : resolve(data as Readable)),
    );
  });
  if (signal?.aborted) {
    stream.destroy();
    signal.throwIfAborted();
  }
  return stream;
}
