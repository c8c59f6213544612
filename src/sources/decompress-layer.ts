import { spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { SourceError } from './source-error.js';

export type Compression = 'none' | 'gzip' | 'zstd';

/** zstd's complaints are one or two lines; more is noise. */
const MAX_STDERR = 4096;

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
    const gunzip = createGunzip();
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

/**
 * zstd through Debian's `zstd` command, as GNU tar would run it: Node 20 has no zstd. The stream ends only
 * once zstd has exited cleanly, so a corrupt or cut frame is an error, never a short layer; destroying the
 * stream ends the child.
 */
function zstdDecompress(input: Readable): Readable {
  const out = new PassThrough({ highWaterMark: 256 * 1024 });
  const child = spawn('zstd', ['-d', '-c', '-q'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, LC_ALL: 'C' },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    if (stderr.length < MAX_STDERR) stderr += text;
  });
  pipeline(input, child.stdin).catch((error: NodeJS.ErrnoException) => {
    // zstd that stopped reading says why when it exits; anything else is the input's own failure.
    if (error.code !== 'EPIPE') out.destroy(error);
  });
  child.stdout.pipe(out, { end: false });
  child.on('error', (error: NodeJS.ErrnoException) => {
    out.destroy(
      error.code === 'ENOENT'
        ? new SourceError(
            'the image has zstd-compressed layers and the zstd command is missing; install it (Debian/Ubuntu: apt-get install zstd)',
          )
        : error,
    );
  });
  child.on('close', (code, signal) => {
    if (code === 0) out.end();
    else if (!out.destroyed) {
      const line = stderr.split('\n').find((text) => text.trim() !== '') ?? `exit ${code ?? signal}`;
      const reason = line.replace(/^\*\*\* zstd.*?: |^zstd: [^:]*: /, '').replace(/[^\x20-\x7e]/g, '?');
      out.destroy(new SourceError(`zstd could not decompress a layer: ${reason.trim()}`));
    }
  });
  out.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  });
  return out;
}
