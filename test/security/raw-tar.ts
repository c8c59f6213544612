import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

// A tar writer that puts any bytes in a name, unlike tar-stream (which encodes names as UTF-8 strings):
// hostile layers need `..`, absolute names, newlines and invalid UTF-8 exactly as an attacker would write them.

export type RawType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface RawEntry {
  /** Bytes of the member name, written as given (no `./`, no trailing slash added). */
  readonly name: string | Buffer;
  readonly type: RawType;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly mtime?: number;
  readonly linkname?: string | Buffer;
  readonly content?: Buffer;
  readonly devmajor?: number;
  readonly devminor?: number;
  /** The ustar name field when it must differ from the (PAX) name: parsers that read the wrong one disagree. */
  readonly headerName?: Buffer;
  /** The size field when it must lie about the content that follows. */
  readonly size?: number;
  /**
   * PAX extension headers written before the member, one header per record set, instead of the automatic
   * one: tar readers disagree on what several headers in a row mean.
   */
  readonly paxHeaders?: readonly Readonly<Record<string, string | Buffer>>[];
  /** A PAX global header written before the member (and its PAX headers): GNU tar applies it to every later member, Go to none. */
  readonly paxGlobal?: Readonly<Record<string, string | Buffer>>;
  /** A GNU long-name record written after the PAX headers, just before the member. */
  readonly gnuLongName?: string | Buffer;
  /** The typeflag byte when it must differ from `type`'s (NUL, which old tars wrote for files and directories). */
  readonly typeflag?: string;
}

const BLOCK = 512;
const TYPEFLAGS: Readonly<Record<RawType, string>> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};

/** Writes `entries` as a tar file and resolves to its diff ID (the sha256 of the bytes). */
export async function writeRawTar(entries: Iterable<RawEntry>, file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(
    Readable.from(tarBlocks(entries)),
    async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        hash.update(chunk);
        yield chunk;
      }
    },
    createWriteStream(file),
  );
  return `sha256:${hash.digest('hex')}`;
}

function* tarBlocks(entries: Iterable<RawEntry>): Generator<Buffer> {
  for (const entry of entries) yield* memberBlocks(entry);
  yield Buffer.alloc(2 * BLOCK);
}

/** One member's blocks: its PAX headers, its header, its content padded to the block size. */
export function* memberBlocks(entry: RawEntry): Generator<Buffer> {
  const name = bytes(entry.name);
  const linkname = bytes(entry.linkname ?? '');
  const content = entry.content ?? Buffer.alloc(0);
  // Long or non-ASCII names travel in a PAX record, as GNU tar and Go write them; the raw bytes stay raw.
  const automatic: Record<string, Buffer> = {};
  if (name.length > 100 || !isAscii(name) || entry.headerName) automatic.path = name;
  if (linkname.length > 100 || !isAscii(linkname)) automatic.linkpath = linkname;
  const paxHeaders = entry.paxHeaders ?? (Object.keys(automatic).length > 0 ? [automatic] : []);
  const extensions: [string, string, Buffer][] = [];
  if (entry.paxGlobal) extensions.push(['pax_global_header', 'g', paxRecords(entry.paxGlobal)]);
  for (const records of paxHeaders) extensions.push(['PaxHeader', 'x', paxRecords(records)]);
  if (entry.gnuLongName !== undefined) {
    extensions.push(['././@LongLink', 'L', Buffer.concat([bytes(entry.gnuLongName), Buffer.alloc(1)])]);
  }
  for (const [extensionName, typeflag, body] of extensions) {
    yield header({ name: Buffer.from(extensionName), typeflag, size: body.length, entry });
    yield* padded(body);
  }
  yield header({
    name: entry.headerName ?? name.subarray(0, 100),
    linkname: linkname.subarray(0, 100),
    typeflag: entry.typeflag ?? TYPEFLAGS[entry.type],
    size: entry.size ?? content.length,
    entry,
  });
  yield* padded(content);
}

function header(fields: {
  name: Buffer;
  linkname?: Buffer;
  typeflag: string;
  size: number;
  entry: RawEntry;
}): Buffer {
  const { entry } = fields;
  const block = Buffer.alloc(BLOCK);
  fields.name.copy(block, 0);
  octal(block, 100, 8, entry.mode ?? (entry.type === 'dir' ? 0o755 : 0o644));
  octal(block, 108, 8, entry.uid ?? 0);
  octal(block, 116, 8, entry.gid ?? 0);
  octal(block, 124, 12, fields.size);
  octal(block, 136, 12, entry.mtime ?? 1700000000);
  block.write(fields.typeflag, 156, 'latin1');
  fields.linkname?.copy(block, 157);
  block.write('ustar\u000000', 257, 'latin1');
  octal(block, 329, 8, entry.devmajor ?? 0);
  octal(block, 337, 8, entry.devminor ?? 0);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  return block;
}

function* padded(data: Buffer): Generator<Buffer> {
  if (data.length === 0) return;
  yield data;
  const rest = data.length % BLOCK;
  if (rest !== 0) yield Buffer.alloc(BLOCK - rest);
}

function paxRecords(records: Readonly<Record<string, string | Buffer>>): Buffer {
  return Buffer.concat(Object.entries(records).map(([key, value]) => paxRecord(key, bytes(value))));
}

/** `LEN key=value\n`, where LEN counts its own digits. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length++;
  return Buffer.concat([Buffer.from(String(length)), body]);
}

function octal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(`${value.toString(8).padStart(length - 1, '0')}\u0000`, offset, 'latin1');
}

function bytes(value: string | Buffer): Buffer {
  return typeof value === 'string' ? Buffer.from(value) : value;
}

function isAscii(value: Buffer): boolean {
  return value.every((byte) => byte < 0x80);
}
