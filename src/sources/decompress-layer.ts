import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { zstdDecompress } from '../extract/fast/zstd-stream.js';

export type Compression = 'none' | 'gzip' | 'zstd';

/** The compression a layer's media type names; undefined when it names none we know (then sniff). */
export function compressionOf(mediaType: string | undefined): Compression | undefined {
  if (mediaType === undefined) return undefined;
  if (/\+zstd$|\.zstd$/.test(mediaType)) return 'zstd';
  if (/\+gzip$|\.gzip$|\.tar\.gz$/.test(mediaType)) return 'gzip';
  if (/\.tar$/.test(mediaType)) return 'none';
  return undefined;
}

/** The uncompressed bytes of `input`; the result errors when the input does. */
export function decompressLayer(input: Readable, compression: Compression): Readable {
  if (compression === 'none') return input;
  if (compression === 'gzip') {
    // zlib's default 16 KiB output chunks cost twice the CPU of 256 KiB ones (callbacks and garbage).
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    // The consumer's pipeline sees any error: this one destroys the gunzip with it.
    pipeline(input, gunzip).catch(() => {});
    return gunzip;
  }
  return zstdDecompress(input);
}

/** What a layer's first bytes say (docker-archive names no media types): gzip's 1f 8b, zstd's magic, or none. */
export async function sniffCompression(head: Readable): Promise<Compression> {
  const first = await new Promise<Buffer>((done, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    head.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= 4) head.destroy();
    });
    head.once('error', fail);
    head.once('close', () => done(Buffer.concat(chunks)));
  });
  if (first[0] === 0x1f && first[1] === 0x8b) return 'gzip';
  if (first.length >= 4 && first.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}
