/** What a tar header block says, with PAX and GNU long-name records already applied. */
export interface TarHeader {
  /** Member name as raw bytes in a latin1 string, so every byte survives (file names need not be UTF-8). */
  readonly name: string;
  /** Link target as raw bytes in a latin1 string ('' when none). */
  readonly linkname: string;
  readonly kind: MemberKind;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Bytes of data that follow the header (before padding). */
  readonly size: number;
  /** Seconds since the epoch, computed as tar-stream does, so both methods agree. */
  readonly mtime: number;
  readonly devmajor: number;
  readonly devminor: number;
  /** PAX records of the member (local over global), values as raw bytes in latin1 strings. */
  readonly pax: Readonly<Record<string, string>>;
}

export type MemberKind = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

/** Header blocks that describe the next member instead of being one. */
export type ExtensionKind = 'pax' | 'pax-global' | 'gnu-long-name' | 'gnu-long-link';

export const BLOCK = 512;

const MEMBER_KINDS: Readonly<Record<string, MemberKind>> = {
  '0': 'file',
  '\0': 'file',
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
  | { readonly type: 'end' }
  | { readonly type: 'extension'; readonly kind: ExtensionKind; readonly size: number }
  | {
      readonly type: 'member';
      readonly typeflag: string;
      readonly block: Buffer;
      readonly size: number;
    };

/** Reads one 512-byte header block: the end marker, an extension header, or a member header. */
export function readRawHeader(block: Buffer): RawHeader {
  if (checksum(block) === 8 * 32) return { type: 'end' };
  if (checksum(block) !== readNumber(block, 148, 8)) {
    throw new Error('invalid tar header checksum (the layer is corrupt or compressed)');
  }
  const typeflag = String.fromCharCode(block[156] ?? 0);
  const size = readNumber(block, 124, 12);
  const extension = EXTENSION_KINDS[typeflag];
  if (extension) return { type: 'extension', kind: extension, size };
  return { type: 'member', typeflag, block, size };
}

export interface Extensions {
  pax?: Record<string, string>;
  longName?: string;
  longLink?: string;
}

/** Decodes a member header block with the extension records that preceded it. */
export function decodeMember(
  block: Buffer,
  extensions: Extensions,
  globalPax: Readonly<Record<string, string>>,
): TarHeader {
  const typeflag = String.fromCharCode(block[156] ?? 0);
  let kind = MEMBER_KINDS[typeflag];
  if (kind === undefined) {
    throw new Error(`tar member type ${JSON.stringify(typeflag)} is not supported by --method fast`);
  }
  let name = readString(block, 0, 100);
  const magic = block.toString('latin1', 257, 263);
  if (magic === 'ustar\0' && block[345] !== 0) name = `${readString(block, 345, 155)}/${name}`;
  // Old tars mark a directory by a trailing slash only.
  if (kind === 'file' && typeflag !== '7' && name.endsWith('/')) kind = 'dir';
  const pax = { ...globalPax, ...extensions.pax };
  const size = pax.size !== undefined ? Number.parseInt(pax.size, 10) : readNumber(block, 124, 12);
  const headerMtime = readNumber(block, 136, 12);
  return {
    name: pax.path ?? extensions.longName ?? name,
    linkname: pax.linkpath ?? extensions.longLink ?? readString(block, 157, 100),
    kind,
    mode: readNumber(block, 100, 8) & 0o7777,
    uid: pax.uid !== undefined ? Number(utf8(pax.uid)) : readNumber(block, 108, 8),
    gid: pax.gid !== undefined ? Number(utf8(pax.gid)) : readNumber(block, 116, 8),
    size,
    mtime: Math.floor(pax.mtime !== undefined ? (Number(utf8(pax.mtime)) * 1000) / 1000 : headerMtime),
    devmajor: readNumber(block, 329, 8),
    devminor: readNumber(block, 337, 8),
    pax,
  };
}

/** PAX records (`LEN KEY=VALUE\n`), values kept as raw bytes in latin1 strings. */
export function decodePax(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space < 0) break;
    const length = Number.parseInt(data.toString('latin1', offset, space), 10);
    if (!(length > 0) || offset + length > data.length) break;
    const record = data.subarray(space + 1, offset + length - 1);
    const equals = record.indexOf(0x3d);
    if (equals < 0) break;
    records[record.toString('utf8', 0, equals)] = record.toString('latin1', equals + 1);
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

function readString(block: Buffer, offset: number, length: number): string {
  const end = block.indexOf(0, offset);
  return block.toString('latin1', offset, end < 0 || end > offset + length ? offset + length : end);
}

/** Octal (space or NUL padded) or base-256 numbers, as GNU tar and tar-stream read them. */
function readNumber(block: Buffer, offset: number, length: number): number {
  const field = block.subarray(offset, offset + length);
  if ((field[0] ?? 0) & 0x80) {
    let value = 0;
    const negative = field[0] === 0xff;
    for (let i = 1; i < field.length; i++)
      value = value * 256 + (negative ? 0xff - (field[i] ?? 0) : (field[i] ?? 0));
    return negative ? -value : value;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

function checksum(block: Buffer): number {
  let sum = 8 * 32;
  for (let i = 0; i < 148; i++) sum += block[i] ?? 0;
  for (let i = 156; i < BLOCK; i++) sum += block[i] ?? 0;
  return sum;
}
