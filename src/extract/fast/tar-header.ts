import { UnsupportedLayerError } from './unsupported-layer-error.js';

/**
 * What a tar header block says, with the PAX and GNU long-name records before it applied, read as Go's
 * archive/tar reads it: the engine loaded the layer with that reader, so its view is the image.
 */
export interface TarHeader {
  /** Member name as raw bytes in a latin1 string, so every byte survives (file names need not be UTF-8). */
  readonly name: string;
  /** Link target as raw bytes in a latin1 string ('' when none). */
  readonly linkname: string;
  readonly kind: MemberKind;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Bytes of data that follow the header (before padding): 0 for every kind but files. */
  readonly size: number;
  /** Seconds since the epoch, computed as tar-stream does, so both methods agree. */
  readonly mtime: number;
  readonly devmajor: number;
  readonly devminor: number;
  /** The member's PAX records (of the last PAX header before it), values as raw bytes in latin1 strings. */
  readonly pax: Readonly<Record<string, string>>;
}

export type MemberKind = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

/** Header blocks that describe the next member instead of being one. */
export type ExtensionKind = 'pax' | 'pax-global' | 'gnu-long-name' | 'gnu-long-link';

export const BLOCK = 512;

const MEMBER_KINDS: Readonly<Record<string, MemberKind>> = {
  '0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};

const EXTENSION_KINDS: Readonly<Record<string, ExtensionKind>> = {
  x: 'pax',
  g: 'pax-global',
  L: 'gnu-long-name',
  K: 'gnu-long-link',
};

export type RawHeader =
  | { readonly type: 'zero' }
  | { readonly type: 'extension'; readonly kind: ExtensionKind; readonly size: number }
  | { readonly type: 'member' };

/** Reads one 512-byte header block: a block of zeros (half an end marker), an extension header, or a member. */
export function readRawHeader(block: Buffer): RawHeader {
  if (block.every((byte) => byte === 0)) return { type: 'zero' };
  const [unsigned, signed] = checksums(block);
  let stored: number | undefined;
  try {
    stored = readOctal(block, 148, 8);
  } catch {}
  if (stored !== unsigned && stored !== signed) {
    throw new Error('invalid tar header checksum (the layer is corrupt or compressed)');
  }
  const extension = EXTENSION_KINDS[String.fromCharCode(block[156] ?? 0)];
  if (!extension) return { type: 'member' };
  const size = readNumber(block, 124, 12);
  if (size < 0) throw new Error('a tar extension header claims a negative size');
  return { type: 'extension', kind: extension, size };
}

/** The extension records in force for the next member: each kind's last one, as Go keeps them. */
export interface Extensions {
  pax?: Record<string, string>;
  longName?: string;
  longLink?: string;
}

/** Decodes a member header block with the extension records that preceded it. */
export function decodeMember(block: Buffer, extensions: Extensions): TarHeader {
  const format = formatOf(block);
  let name = readString(block, 0, 100);
  const prefix = prefixOf(block, format);
  if (prefix) name = `${prefix}/${name}`;
  // Empty values keep the header's own (Go's mergePAX); sparse files are not written as they are stored.
  const pax: Record<string, string> = {};
  for (const [key, value] of Object.entries(extensions.pax ?? {})) {
    if (key.startsWith('GNU.sparse.')) {
      throw new UnsupportedLayerError(`layer member ${JSON.stringify(utf8(name))} is a sparse file`);
    }
    if (value !== '') pax[key] = value;
  }
  // A GNU long name wins over a PAX path, in Go (GNU tar has it the other way round).
  name = extensions.longName || pax.path || name;
  const linkname = extensions.longLink || pax.linkpath || readString(block, 157, 100);
  const typeflag = String.fromCharCode(block[156] ?? 0);
  // Old tars mark a directory by a trailing slash of the whole name, and only with type NUL.
  const kind = typeflag === '\0' ? (name.endsWith('/') ? 'dir' : 'file') : MEMBER_KINDS[typeflag];
  if (kind === undefined) {
    throw new UnsupportedLayerError(
      `layer member ${JSON.stringify(utf8(name))} has tar type ${JSON.stringify(typeflag)}`,
    );
  }
  if (name.includes('\0') || linkname.includes('\0')) throw new Error('a tar member name holds a NUL byte');
  const paxNumber = (key: string) => (pax[key] === undefined ? undefined : decimal(pax[key], key));
  // Every kind but files is header only: Go reads no data for it, whatever its size says.
  const size = paxNumber('size') ?? readNumber(block, 124, 12);
  if (kind === 'file' && !(size >= 0 && Number.isSafeInteger(size))) {
    throw new Error(`layer member ${JSON.stringify(utf8(name))} claims ${size} bytes`);
  }
  const uid = paxNumber('uid') ?? readNumber(block, 108, 8);
  const gid = paxNumber('gid') ?? readNumber(block, 116, 8);
  if (uid < 0 || gid < 0) {
    throw new UnsupportedLayerError(`layer member ${JSON.stringify(utf8(name))} has a negative owner`);
  }
  const headerMtime = readNumber(block, 136, 12);
  const mode = readNumber(block, 100, 8);
  const devices = format === 'v7' ? [0, 0] : [readNumber(block, 329, 8), readNumber(block, 337, 8)];
  return {
    name,
    linkname,
    kind,
    mode: mode & 0o7777,
    uid,
    gid,
    size: kind === 'file' ? size : 0,
    mtime: Math.floor(pax.mtime !== undefined ? (paxTime(pax.mtime) * 1000) / 1000 : headerMtime),
    devmajor: devices[0] ?? 0,
    devminor: devices[1] ?? 0,
    pax,
  };
}

/** PAX records (`LEN KEY=VALUE\n`), values kept as raw bytes in latin1 strings; malformed ones refused as Go does. */
export function decodePax(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    const lengthText = space < 0 ? '' : data.toString('latin1', offset, space);
    const length = /^[+-]?\d+$/.test(lengthText) ? Number(lengthText) : Number.NaN;
    if (!(length >= 5 && offset + length <= data.length && offset + length > space + 1)) {
      throw new Error('a tar PAX header holds a malformed record');
    }
    const end = offset + length - 1;
    const equals = data.indexOf(0x3d, space + 1);
    if (data[end] !== 0x0a || equals < 0 || equals >= end || equals === space + 1) {
      throw new Error('a tar PAX header holds a malformed record');
    }
    const key = data.toString('latin1', space + 1, equals);
    const value = data.toString('latin1', equals + 1, end);
    const named = ['path', 'linkpath', 'uname', 'gname'].includes(key);
    if ((named ? value : key).includes('\0')) throw new Error('a tar PAX record holds a NUL byte');
    records[key] = value;
    offset += length;
  }
  return records;
}

/** A GNU long name or link record: the bytes up to the first NUL. */
export function decodeLongName(data: Buffer): string {
  const end = data.indexOf(0);
  return data.toString('latin1', 0, end < 0 ? data.length : end);
}

/** Raw bytes held in a latin1 string, read as UTF-8 (what tar-stream, and so the manifest, shows). */
export function utf8(raw: string): string {
  return Buffer.from(raw, 'latin1').toString('utf8');
}

/** Bytes of padding after `size` bytes of data. */
export function padding(size: number): number {
  const rest = size % BLOCK;
  return rest === 0 ? 0 : BLOCK - rest;
}

/** A PAX time (`SECONDS[.FRACTION]`) in seconds, refused where Go's parsePAXTime refuses it. */
export function paxTime(value: string): number {
  const match = /^([+-]?\d+)(?:\.(\d*))?$/.exec(value);
  if (!match) throw new Error(`a tar PAX time ${JSON.stringify(value)} is malformed`);
  const seconds = Number(match[1]);
  const fraction = Number(`0.${(match[2] ?? '').slice(0, 9) || '0'}`);
  return match[1]?.startsWith('-') ? seconds - fraction : seconds + fraction;
}

type Format = 'v7' | 'ustar' | 'star' | 'gnu';

function formatOf(block: Buffer): Format {
  const magic = block.toString('latin1', 257, 263);
  if (magic === 'ustar\0') return block.toString('latin1', 508, 512) === 'tar\0' ? 'star' : 'ustar';
  if (magic === 'ustar ' && block.toString('latin1', 263, 265) === ' \0') return 'gnu';
  return 'v7';
}

/** The name's prefix field, where the format has one. */
function prefixOf(block: Buffer, format: Format): string {
  if (format === 'ustar') return readString(block, 345, 155);
  if (format === 'star') return readString(block, 345, 131);
  if (format !== 'gnu') return '';
  // Go before 1.8 wrote a prefix into GNU headers, over their atime and ctime; Go still reads one there
  // when those fields do not parse as numbers.
  const parses = (offset: number) => {
    if (block[offset] === 0) return true;
    try {
      readNumber(block, offset, 12);
      return true;
    } catch {
      return false;
    }
  };
  if (parses(345) && parses(357)) return '';
  const prefix = readString(block, 345, 155);
  return [...prefix].every((char) => char.charCodeAt(0) < 0x80) ? prefix : '';
}

function readString(block: Buffer, offset: number, length: number): string {
  const end = block.indexOf(0, offset);
  return block.toString('latin1', offset, end < 0 || end > offset + length ? offset + length : end);
}

/** A number field as Go reads it: base-256 when its first bit is set, else octal between NULs and spaces. */
function readNumber(block: Buffer, offset: number, length: number): number {
  const field = block.subarray(offset, offset + length);
  if (((field[0] ?? 0) & 0x80) === 0) return readOctal(block, offset, length);
  const negative = ((field[0] ?? 0) & 0x40) !== 0;
  let value = 0n;
  for (const [i, byte] of field.entries()) {
    let digit = negative ? byte ^ 0xff : byte;
    if (i === 0) digit &= 0x7f;
    value = (value << 8n) | BigInt(digit);
  }
  if (value >= 1n << 63n) throw new Error('a tar header number overflows');
  const number = negative ? -Number(value) - 1 : Number(value);
  if (!Number.isSafeInteger(number)) throw new Error('a tar header number is too large');
  return number;
}

function readOctal(block: Buffer, offset: number, length: number): number {
  // Go trims NULs and spaces at both ends, then reads up to the first NUL left.
  let start = offset;
  let end = offset + length;
  const isPad = (byte: number | undefined) => byte === 0 || byte === 0x20;
  while (start < end && isPad(block[start])) start++;
  while (end > start && isPad(block[end - 1])) end--;
  if (start === end) return 0;
  const digits = readString(block, start, end - start);
  if (!/^[0-7]+$/.test(digits)) throw new Error('a tar header holds a malformed number');
  const number = Number.parseInt(digits, 8);
  if (!Number.isSafeInteger(number)) throw new Error('a tar header number is too large');
  return number;
}

function decimal(value: string, key: string): number {
  if (!/^[+-]?\d+$/.test(value)) throw new Error(`a tar PAX ${key} ${JSON.stringify(value)} is malformed`);
  const number = Number(value);
  if (!Number.isSafeInteger(number)) throw new Error(`a tar PAX ${key} ${value} is too large`);
  return number;
}

/** The header's checksums, its own field counted as spaces: unsigned, and signed as some old tars wrote it. */
function checksums(block: Buffer): [number, number] {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    unsigned += byte;
    signed += byte >= 0x80 ? byte - 0x100 : byte;
  }
  return [unsigned, signed];
}
