import type { Readable } from 'node:stream';

/**
 * Reports the bytes `stream` has delivered and `entries()` at most ten times a second; the function it
 * returns reports them once more, for the caller to call when its consumers are done (entries may still be
 * counted after the stream's end). Attach it after the stream's consumers (pipe or pipeline): a second
 * 'data' listener then sees the chunks they take without changing their back-pressure, and no chunk flows
 * before they are there.
 */
export function countProgress(
  stream: Readable,
  entries: () => number,
  onProgress: (bytes: number, entries: number) => void,
): () => void {
  let bytes = 0;
  let reported = 0;
  stream.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    const now = performance.now();
    if (now - reported >= 100) {
      reported = now;
      onProgress(bytes, entries());
    }
  });
  return () => onProgress(bytes, entries());
}
