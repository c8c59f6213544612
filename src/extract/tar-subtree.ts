import { Transform, type TransformCallback } from 'node:stream';

const BLOCK = 512;

interface MetaHeader {
  readonly type: string;
  readonly header: Buffer;
  readonly size: number;
  readonly chunks: Buffer[];
  left: number;
}

/**
 * Passes through, byte for byte, only the members of a tar stream at or below `dir` (a relative path such as
 * `distroless-contents`), with the PAX and GNU long-name headers that belong to them, then ends the archive.
 * Byte for byte, so nothing a tar writer put there (owners, xattrs, devices, hardlinks) is re-encoded.
 */
export class TarSubtree extends Transform {
  readonly #dir: string;
  #pending: Buffer = Buffer.alloc(0);
  /** Headers (PAX `x`, GNU `L`/`K`) waiting for the member they describe. */
  #meta: Buffer[] = [];
  #longName: string | undefined;
  #paxPath: string | undefined;
  /** Bytes of the current member's data (with padding) still to pass or drop. */
  #dataLeft = 0;
  #keepData = false;
  /** A meta header whose data is being collected. */
  #collecting: MetaHeader | undefined;
  #ended = false;

  constructor(dir: string) {
    super();
    this.#dir = normalize(dir);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#consume(chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.#dataLeft > 0 || this.#collecting || this.#pending.length > 0) {
      callback(new Error('the tar stream ended in the middle of a member'));
      return;
    }
    this.#end();
    callback();
  }

  #consume(chunk: Buffer): void {
    let input = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = Buffer.alloc(0);
    while (input.length > 0 && !this.#ended) {
      if (this.#dataLeft > 0) {
        const take = Math.min(this.#dataLeft, input.length);
        if (this.#keepData) this.push(input.subarray(0, take));
        this.#dataLeft -= take;
        input = input.subarray(take);
      } else if (this.#collecting) {
        const collecting = this.#collecting;
        const take = Math.min(collecting.left, input.length);
        collecting.chunks.push(input.subarray(0, take));
        collecting.left -= take;
        input = input.subarray(take);
        if (collecting.left === 0) this.#finishMeta(collecting);
      } else if (input.length < BLOCK) {
        this.#pending = Buffer.from(input);
        return;
      } else {
        this.#header(input.subarray(0, BLOCK));
        input = input.subarray(BLOCK);
      }
    }
  }

  #header(header: Buffer): void {
    if (header.every((byte) => byte === 0)) {
      this.#end();
      return;
    }
    const type = String.fromCharCode(header[156] ?? 0);
    const size = readSize(header);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x' || type === 'L' || type === 'K') {
      this.#collecting = { type, header: Buffer.from(header), size, chunks: [], left: padded };
      if (padded === 0) this.#finishMeta(this.#collecting);
      return;
    }
    if (type === 'g') {
      // Global PAX headers apply to every member after them: keep them all.
      this.push(Buffer.from(header));
      this.#dataLeft = padded;
      this.#keepData = true;
      return;
    }
    const path = normalize(this.#paxPath ?? this.#longName ?? headerName(header));
    this.#keepData = path === this.#dir || path.startsWith(`${this.#dir}/`);
    if (this.#keepData) {
      for (const meta of this.#meta) this.push(meta);
      this.push(Buffer.from(header));
    }
    this.#meta = [];
    this.#longName = undefined;
    this.#paxPath = undefined;
    this.#dataLeft = padded;
  }

  #finishMeta(meta: MetaHeader): void {
    this.#collecting = undefined;
    const data = Buffer.concat(meta.chunks);
    this.#meta.push(meta.header, data);
    const content = data.subarray(0, meta.size);
    if (meta.type === 'L') this.#longName = cString(content);
    if (meta.type === 'x') this.#paxPath = paxRecords(content).get('path') ?? this.#paxPath;
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.push(Buffer.alloc(2 * BLOCK));
  }
}

function normalize(path: string): string {
  return path.replace(/^(?:\.?\/)+/, '').replace(/\/+$/, '');
}

function cString(bytes: Buffer): string {
  const nul = bytes.indexOf(0);
  return bytes.subarray(0, nul < 0 ? bytes.length : nul).toString('utf8');
}

/** ustar splits long names into prefix and name; GNU tar's own magic uses the prefix field for other things. */
function headerName(header: Buffer): string {
  const name = cString(header.subarray(0, 100));
  const ustar = header.subarray(257, 263).toString('latin1') === 'ustar\0';
  const prefix = ustar ? cString(header.subarray(345, 500)) : '';
  return prefix ? `${prefix}/${name}` : name;
}

/** Octal, or base-256 (high bit of the first byte set) for sizes of 8 GiB and more. */
function readSize(header: Buffer): number {
  const field = header.subarray(124, 136);
  if ((field[0] ?? 0) & 0x80) {
    let value = 0;
    for (let i = 0; i < field.length; i++)
      value = value * 256 + ((i === 0 ? (field[i] ?? 0) & 0x7f : field[i]) ?? 0);
    return value;
  }
  const text = cString(field).trim();
  return text ? Number.parseInt(text, 8) : 0;
}

/** PAX records: `<length> <key>=<value>\n`, the length counting the whole record. */
function paxRecords(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let position = 0;
  while (position < data.length) {
    const space = data.indexOf(0x20, position);
    if (space < 0) break;
    const length = Number.parseInt(data.subarray(position, space).toString('latin1'), 10);
    if (!(length > 0)) break;
    const record = data.subarray(space + 1, position + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals > 0) records.set(record.slice(0, equals), record.slice(equals + 1));
    position += length;
  }
  return records;
}
