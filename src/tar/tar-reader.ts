import { decodeBytes } from './byte-string.js';
import { parsePaxRecords } from './pax-records.js';
import { TarFormatError } from './tar-error.js';
import {
  parseDecimal,
  parseNumeric,
  parsePaxTime,
  type TarTime,
  tryNumeric,
  tryOctal,
} from './tar-numbers.js';

/**
 * One entry as Go's archive/tar Reader.Next returns it, exact: every engine and umoci read layers with that
 * reader, so this is what the image holds. Names, link targets, PAX keys and values are byte strings
 * (byte-string.ts); numbers are int64 as Go keeps them, before any engine narrows them.
 */
export interface GoHeader {
  /** The typeflag byte as a one-character string (`\0` already turned into `0` or `5` as Go does). */
  readonly typeflag: string;
  readonly name: string;
  readonly linkname: string;
  readonly size: bigint;
  readonly mode: bigint;
  readonly uid: bigint;
  readonly gid: bigint;
  readonly mtime: TarTime;
  readonly devmajor: bigint;
  readonly devminor: bigint;
  /** The PAX records in force for this entry (Go's PAXRecords), empty values included. */
  readonly pax: ReadonlyMap<string, string>;
  /** Go's Xattrs: the `SCHILY.xattr.*` records with a value, by attribute name. */
  readonly xattrs: ReadonlyMap<string, string>;
  /** A GNU sparse file (old `S` type or PAX sparse records), which Go expands and we do not write. */
  readonly sparse: boolean;
}

export const BLOCK = 512;
/** Go's maxSpecialFileSize: PAX headers and GNU long names above 1 MiB are refused. */
const MAX_SPECIAL = 1024 * 1024;
const HEADER_ONLY = new Set(['1', '2', '3', '4', '5', '6']);
const XATTR = 'SCHILY.xattr.';

/** Bytes of padding after `size` bytes of data. */
export function padding(size: number | bigint): number {
  const rest = Number(BigInt(size) % BigInt(BLOCK));
  return rest === 0 ? 0 : BLOCK - rest;
}

type Format = 'unknown' | 'v7' | 'ustar' | 'star' | 'gnu';

/** What one 512-byte header block says, before the extension records that precede it are applied. */
interface RawHeader {
  typeflag: string;
  name: string;
  linkname: string;
  size: bigint;
  mode: bigint;
  uid: bigint;
  gid: bigint;
  mtime: TarTime;
  devmajor: bigint;
  devminor: bigint;
  format: Format;
}

/** Go's block.getFormat: the checksum (unsigned or signed sums), then the magic. */
function formatOf(block: Buffer): Format {
  const stored = tryOctal(block.subarray(148, 156));
  // The checksum field counts as eight spaces; a signed sum differs by 256 for each byte of 0x80 or more.
  let unsigned = 8 * 0x20;
  let high = 0;
  for (let i = 0; i < BLOCK; i++) {
    if (i === 148) i = 156;
    const byte = block[i] as number;
    unsigned += byte;
    if (byte >= 0x80) high++;
  }
  const signed = unsigned - 0x100 * high;
  if (stored === undefined || (stored !== BigInt(unsigned) && stored !== BigInt(signed))) return 'unknown';
  const magic = block.toString('latin1', 257, 263);
  if (magic === 'ustar\0' && block.toString('latin1', 508, 512) === 'tar\0') return 'star';
  if (magic === 'ustar\0') return 'ustar';
  if (magic === 'ustar ' && block.toString('latin1', 263, 265) === ' \0') return 'gnu';
  return 'v7';
}

function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** Go's parser.parseString: the bytes up to the first NUL, as a latin1 string. */
function cString(bytes: Buffer): string {
  const nul = bytes.indexOf(0);
  return bytes.toString('latin1', 0, nul < 0 ? bytes.length : nul);
}

/** Go's Reader.readHeader for a block that is not all zeros. */
function readHeaderBlock(block: Buffer): RawHeader {
  const format = formatOf(block);
  if (format === 'unknown') throw new TarFormatError('a header has a bad checksum (corrupt, or not a tar)');
  const number = (offset: number, length: number, what: string) =>
    parseNumeric(block.subarray(offset, offset + length), what);
  const header: RawHeader = {
    typeflag: String.fromCharCode(block[156] as number),
    name: cString(block.subarray(0, 100)),
    linkname: cString(block.subarray(157, 257)),
    size: number(124, 12, 'size'),
    mode: number(100, 8, 'mode'),
    uid: number(108, 8, 'uid'),
    gid: number(116, 8, 'gid'),
    mtime: { seconds: number(136, 12, 'mtime'), nanos: 0 },
    devmajor: 0n,
    devminor: 0n,
    format,
  };
  if (format === 'v7') return header;
  header.devmajor = number(329, 8, 'devmajor');
  header.devminor = number(337, 8, 'devminor');
  let prefix = '';
  if (format === 'ustar') prefix = cString(block.subarray(345, 500));
  else if (format === 'star') {
    prefix = cString(block.subarray(345, 476));
    number(476, 12, 'atime');
    number(488, 12, 'ctime');
  } else if (!oldGnuTimesParse(block)) {
    const candidate = cString(block.subarray(345, 500));
    if ([...candidate].every((char) => char < '\x80')) prefix = candidate;
  }
  if (prefix !== '') header.name = `${prefix}/${header.name}`;
  return header;
}

/**
 * Old GNU headers hold atime and ctime where ustar has its name prefix. Go reads a prefix there only when
 * one of them (those not starting with NUL) fails to parse as a number, octal or base-256 up to 2^63-1: Go
 * before 1.8 wrote prefixes into GNU headers.
 */
function oldGnuTimesParse(block: Buffer): boolean {
  for (const offset of [345, 357]) {
    if (block[offset] !== 0 && tryNumeric(block.subarray(offset, offset + 12)) === undefined) return false;
  }
  return true;
}

/** Go's mergePAX (non-empty records only) and the GNU long name and link, onto the member's own header. */
function mergeExtensions(
  raw: RawHeader,
  pax: Map<string, string>,
  longName: string,
  longLink: string,
): GoHeader {
  let { name, linkname, size, uid, gid, mtime } = raw;
  const xattrs = new Map<string, string>();
  for (const [key, value] of pax) {
    if (value === '') continue;
    if (key === 'path') name = value;
    else if (key === 'linkpath') linkname = value;
    else if (key === 'uid') uid = parseDecimal(value, 'uid');
    else if (key === 'gid') gid = parseDecimal(value, 'gid');
    else if (key === 'size') size = parseDecimal(value, 'size');
    else if (key === 'mtime') mtime = parsePaxTime(value, 'mtime');
    else if (key === 'atime' || key === 'ctime') parsePaxTime(value, key);
    else if (key.startsWith(XATTR)) xattrs.set(decodeLatin1(key.slice(XATTR.length)), decodeLatin1(value));
  }
  if (longName !== '') name = longName;
  if (longLink !== '') linkname = longLink;
  let { typeflag } = raw;
  if (typeflag === '\0') typeflag = name.endsWith('/') ? '5' : '0';
  return {
    typeflag,
    name: decodeLatin1(name),
    linkname: decodeLatin1(linkname),
    size,
    mode: raw.mode,
    uid,
    gid,
    mtime,
    devmajor: raw.devmajor,
    devminor: raw.devminor,
    pax: new Map([...pax].map(([key, value]) => [decodeLatin1(key), decodeLatin1(value)])),
    xattrs,
    sparse: typeflag === 'S' || isPaxSparse(pax),
  };
}

/** Go's readGNUSparsePAXHeaders: which records make a PAX member a GNU sparse file. */
function isPaxSparse(pax: ReadonlyMap<string, string>): boolean {
  const major = pax.get('GNU.sparse.major') ?? '';
  const minor = pax.get('GNU.sparse.minor') ?? '';
  if (major === '0' && (minor === '0' || minor === '1')) return true;
  if (major === '1' && minor === '0') return true;
  if (major !== '' || minor !== '') return false;
  return (pax.get('GNU.sparse.map') ?? '') !== '';
}

function decodeLatin1(raw: string): string {
  return decodeBytes(Buffer.from(raw, 'latin1'));
}

/** Receives an entry's data (padding excluded), chunk by chunk. */
export interface DataSink {
  update(chunk: Buffer): void;
  end(): void;
}

export interface TarVisitor {
  /**
   * One entry, as Go's Next returns it (a global header `g` included). `blocks` are the bytes read for it up
   * to its data: its extension headers with their data, then its own header block. Returns where its data
   * goes, if anywhere.
   */
  entry(header: GoHeader, blocks: readonly Buffer[]): DataSink | undefined;
}

type State =
  | { at: 'header' }
  | { at: 'zero' }
  | { at: 'extension'; raw: RawHeader; left: number; chunks: Buffer[] }
  | { at: 'data'; left: bigint; pad: number; sink: DataSink | undefined }
  | { at: 'end' };

/**
 * A push parser that splits a tar stream into entries exactly as Go's archive/tar Reader does, and refuses
 * (TarFormatError) where it refuses. Holds one header and its extension records at a time; data flows on.
 */
export class TarParser {
  #state: State = { at: 'header' };
  #partial: Buffer | undefined;
  #pax = new Map<string, string>();
  #longName = '';
  #longLink = '';
  #blocks: Buffer[] = [];

  constructor(private readonly visitor: TarVisitor) {}

  /** True once the end marker was read: what follows it is not part of the archive. */
  get ended(): boolean {
    return this.#state.at === 'end';
  }

  write(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && this.#state.at !== 'end') {
      const state = this.#state;
      if (state.at === 'header' || state.at === 'zero') {
        const need = BLOCK - (this.#partial?.length ?? 0);
        if (chunk.length - offset < need) {
          const rest = chunk.subarray(offset);
          this.#partial = this.#partial ? Buffer.concat([this.#partial, rest]) : Buffer.from(rest);
          return;
        }
        const piece = chunk.subarray(offset, offset + need);
        const block = this.#partial ? Buffer.concat([this.#partial, piece]) : Buffer.from(piece);
        this.#partial = undefined;
        offset += need;
        this.#header(block);
      } else if (state.at === 'extension') {
        const take = Math.min(state.left, chunk.length - offset);
        state.chunks.push(Buffer.from(chunk.subarray(offset, offset + take)));
        state.left -= take;
        offset += take;
        if (state.left === 0) this.#extensionDone(state);
      } else {
        const available = chunk.length - offset;
        const take = state.left < BigInt(available) ? Number(state.left) : available;
        if (take > 0) state.sink?.update(chunk.subarray(offset, offset + take));
        state.left -= BigInt(take);
        offset += take;
        if (state.left === 0n) {
          state.sink?.end();
          state.sink = undefined;
          const pad = Math.min(state.pad, chunk.length - offset);
          state.pad -= pad;
          offset += pad;
          if (state.pad === 0) this.#state = { at: 'header' };
        }
      }
    }
  }

  /** The stream's end: clean where Go's Next would return io.EOF, else refused. */
  end(): void {
    const state = this.#state;
    if (state.at === 'end') return;
    if ((state.at === 'header' || state.at === 'zero') && !this.#partial) return;
    // Missing padding after the last data (a member's or an extension's) is a clean end to Go: its
    // tryReadFull of the padding meets EOF, and Next returns io.EOF.
    if (state.at === 'data' && state.left === 0n) return;
    if (state.at === 'extension' && state.left <= padding(state.raw.size)) return;
    throw new TarFormatError('the archive ends in the middle of an entry');
  }

  #header(block: Buffer): void {
    const zero = isZeroBlock(block);
    if (this.#state.at === 'zero') {
      if (!zero) throw new TarFormatError('a block of zeros is followed by a header');
      this.#state = { at: 'end' };
      return;
    }
    if (zero) {
      this.#state = { at: 'zero' };
      return;
    }
    const raw = readHeaderBlock(block);
    if (!HEADER_ONLY.has(raw.typeflag) && raw.size < 0n)
      throw new TarFormatError('a header has a negative size');
    this.#blocks.push(block);
    if ('xgLK'.includes(raw.typeflag)) {
      if (raw.size > BigInt(MAX_SPECIAL)) {
        throw new TarFormatError(`an extension header of ${raw.size} bytes is larger than 1 MiB`);
      }
      const size = Number(raw.size);
      const state = { at: 'extension' as const, raw, left: size + padding(size), chunks: [] };
      this.#state = state;
      if (state.left === 0) this.#extensionDone(state);
      return;
    }
    const header = mergeExtensions(raw, this.#pax, this.#longName, this.#longLink);
    this.#emit(header, HEADER_ONLY.has(header.typeflag) ? 0n : header.size);
  }

  #extensionDone(state: { raw: RawHeader; chunks: Buffer[] }): void {
    const all = Buffer.concat(state.chunks);
    this.#blocks.push(all);
    const data = all.subarray(0, Number(state.raw.size));
    const { typeflag } = state.raw;
    this.#state = { at: 'header' };
    if (typeflag === 'L') this.#longName = cString(data);
    else if (typeflag === 'K') this.#longLink = cString(data);
    else if (typeflag === 'x') this.#pax = parsePaxRecords(data);
    else {
      // A global header is an entry of its own to Go, its records merged into it (errors ignored there).
      const records = parsePaxRecords(data);
      const path = records.get('path');
      const xattrs = new Map<string, string>();
      for (const [key, value] of records) {
        if (key.startsWith(XATTR) && value !== '')
          xattrs.set(decodeLatin1(key.slice(XATTR.length)), decodeLatin1(value));
      }
      this.#emit(
        {
          typeflag: 'g',
          name: decodeLatin1(path ? path : state.raw.name),
          linkname: '',
          size: 0n,
          mode: 0n,
          uid: 0n,
          gid: 0n,
          mtime: { seconds: 0n, nanos: 0 },
          devmajor: 0n,
          devminor: 0n,
          pax: new Map([...records].map(([key, value]) => [decodeLatin1(key), decodeLatin1(value)])),
          xattrs,
          sparse: false,
        },
        0n,
      );
    }
  }

  #emit(header: GoHeader, size: bigint): void {
    if (size < 0n) throw new TarFormatError('a header has a negative size');
    const blocks = this.#blocks;
    this.#blocks = [];
    this.#pax = new Map();
    this.#longName = '';
    this.#longLink = '';
    const sink = this.visitor.entry(header, blocks);
    this.#state = { at: 'data', left: size, pad: padding(size), sink };
    if (size === 0n) {
      sink?.end();
      this.#state = { at: 'header' };
    }
  }
}
