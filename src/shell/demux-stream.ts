import { once } from 'node:events';
import { Writable } from 'node:stream';

const HEADER_SIZE = 8;
const STDERR = 2;
/** The engine's own error, sent in place of output (moby stdcopy `Systemerr`). */
const SYSTEMERR = 3;

/**
 * A writable for the engine's multiplexed attach stream (no TTY): frames of an 8-byte header (stream type,
 * three zero bytes, big-endian length) and a payload, sent on to `stdout` or `stderr`. It waits for a
 * destination to drain before taking more, and never ends either destination, as they are the caller's.
 */
export function demuxStream(stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Writable {
  let pending: Buffer = Buffer.alloc(0);
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      forwardFrames().then(() => callback(), callback);
    },
    final(callback) {
      callback(
        pending.length === 0
          ? null
          : new Error(`The engine's output stream ended inside a frame (${pending.length} bytes left over).`),
      );
    },
  });

  async function forwardFrames(): Promise<void> {
    while (pending.length >= HEADER_SIZE) {
      const type = pending[0];
      // Checked before waiting for the payload: a raw TTY stream read as a header claims gigabytes.
      if (type !== 0 && type !== 1 && type !== STDERR && type !== SYSTEMERR) {
        throw new Error(`Unexpected stream type ${type} in the engine's output; is the container's Tty on?`);
      }
      const length = pending.readUInt32BE(4);
      if (pending.length < HEADER_SIZE + length) return;
      const payload = pending.subarray(HEADER_SIZE, HEADER_SIZE + length);
      pending = pending.subarray(HEADER_SIZE + length);
      if (type === SYSTEMERR) throw new Error(`The engine reported: ${payload.toString('utf8').trim()}`);
      const destination = type === STDERR ? stderr : stdout;
      if (!destination.write(payload)) await once(destination, 'drain');
    }
  }
}
