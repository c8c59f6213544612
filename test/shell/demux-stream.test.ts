import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { demuxStream } from '../../src/shell/demux-stream.js';

/** A frame as the engine writes it on a non-TTY attach (moby stdcopy): type, 3 zero bytes, length, payload. */
function frame(type: number, payload: Uint8Array): Buffer {
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** A destination that takes one byte of buffer at a time and drains slowly, so backpressure is exercised. */
function slowSink(): { stream: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      setImmediate(callback);
    },
  });
  return { stream, bytes: () => Buffer.concat(chunks) };
}

/** Cuts `bytes` at the given offsets, as the network might. */
function cut(bytes: Buffer, offsets: readonly number[]): Buffer[] {
  const points = [...new Set(offsets.map((offset) => offset % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    if (point > start) pieces.push(bytes.subarray(start, point));
    start = point;
  }
  return pieces;
}

describe('demuxStream', () => {
  it('sends each payload to its stream in order, however the frames are cut, and ends neither', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom(0, 1, 2), fc.uint8Array({ maxLength: 64 })), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        async (frames, offsets) => {
          const out = slowSink();
          const err = slowSink();
          const wire = Buffer.concat(frames.map(([type, payload]) => frame(type, payload)));
          await pipeline(Readable.from(cut(wire, offsets)), demuxStream(out.stream, err.stream));
          const expected = (types: number[]) =>
            Buffer.concat(frames.filter(([type]) => types.includes(type)).map(([, payload]) => payload));
          expect(out.bytes()).toEqual(expected([0, 1]));
          expect(err.bytes()).toEqual(expected([2]));
          expect(out.stream.writableEnded || err.stream.writableEnded).toBe(false);
        },
      ),
    );
  });

  it("fails with the engine's own message on a system error frame", async () => {
    const wire = Buffer.concat([
      frame(1, Buffer.from('partial\n')),
      frame(3, Buffer.from('container gone\n')),
    ]);
    const out = slowSink();
    await expect(pipeline(Readable.from([wire]), demuxStream(out.stream, slowSink().stream))).rejects.toThrow(
      'The engine reported: container gone',
    );
    expect(out.bytes().toString()).toBe('partial\n');
  });

  it('fails on a stream that is not multiplexed (a TTY stream) or ends inside a frame', async () => {
    const raw = Buffer.from('/distroless-contents # ls\r\n');
    await expect(
      pipeline(Readable.from([raw]), demuxStream(slowSink().stream, slowSink().stream)),
    ).rejects.toThrow(/Unexpected stream type 47/);
    const truncated = frame(1, Buffer.from('hello')).subarray(0, 10);
    await expect(
      pipeline(Readable.from([truncated]), demuxStream(slowSink().stream, slowSink().stream)),
    ).rejects.toThrow(/ended inside a frame \(10 bytes left over\)/);
  });
});
