import { Transform, type TransformCallback } from 'node:stream';
import { BLOCK, padding, TarParser } from '../tar/tar-reader.js';

/**
 * Passes through, byte for byte, only the members of a tar stream at or below `dir` (a relative path such as
 * `distroless-contents`), with the PAX and GNU long-name headers that belong to them, then ends the archive.
 * Members are told apart by the one tar reader (src/tar, as Go reads them); headers and data byte for byte
 * (the padding after data is zeros), so nothing a tar writer put there (owners, xattrs, devices, hardlinks) is
 * re-encoded.
 */
export class TarSubtree extends Transform {
  readonly #dir: string;
  readonly #parser: TarParser;
  #out: Buffer[] = [];
  #ended = false;

  constructor(dir: string) {
    super();
    this.#dir = normalize(dir);
    this.#parser = new TarParser({
      entry: (header, blocks) => {
        // Global PAX headers apply to every member after them: keep them all.
        const keep = header.typeflag === 'g' || this.#inside(normalize(header.name));
        if (!keep) return undefined;
        this.#out.push(...blocks);
        return {
          update: (chunk) => this.#out.push(Buffer.from(chunk)),
          end: () => this.#out.push(Buffer.alloc(padding(header.typeflag === 'g' ? 0 : size(header)))),
        };
      },
    });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      if (!this.#parser.ended) this.#parser.write(chunk);
      this.#drain();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.#parser.end();
    } catch {
      callback(new Error('the tar stream ended in the middle of a member'));
      return;
    }
    this.#drain();
    // Go ends a tar cleanly at a missing end marker too; the stream passed on always has one.
    this.#end();
    callback();
  }

  #inside(path: string): boolean {
    return path === this.#dir || path.startsWith(`${this.#dir}/`);
  }

  #drain(): void {
    for (const piece of this.#out) this.push(piece);
    this.#out = [];
    if (this.#parser.ended) this.#end();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.push(Buffer.alloc(2 * BLOCK));
  }
}

/** Bytes of data that follow a member's header: none for the header-only types, whatever its size says. */
function size(header: { typeflag: string; size: bigint }): bigint {
  return '123456'.includes(header.typeflag) ? 0n : header.size;
}

function normalize(path: string): string {
  return path.replace(/^(?:\.?\/)+/, '').replace(/\/+$/, '');
}
