import { UnsupportedLayerError } from '../extract/fast/unsupported-layer-error.js';
import { encodeBytes } from './byte-string.js';
import type { MemberKind, TarHeader } from './tar-member.js';
import { BLOCK, padding } from './tar-reader.js';

const TYPEFLAGS: Readonly<Record<MemberKind, string>> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};

/** Largest values + 1 of the octal fields: 7 digits (ids, devices), 11 digits (size, mtime). */
const OCTAL_7 = 8 ** 7;
const OCTAL_11 = 8 ** 11;

/**
 * The header blocks GNU tar gets for one approved member, made here and never copied from the layer, so GNU
 * tar can read no other member than the one approved, however the layer's own headers would have misled it:
 * names too long for the name field go in GNU long-name records (raw bytes: GNU tar never converts those
 * to another charset, as it may a PAX path), a PAX header carries only what ustar fields cannot (fractions of
 * a second, large numbers, extended attributes), and the ustar header has no prefix.
 */
export function encodeMember(header: TarHeader): Buffer[] {
  if (header.name === '' || header.name.startsWith('/') || header.name.includes('\0')) {
    throw new Error(`refusing to write the member name ${JSON.stringify(header.name)}`);
  }
  const records: [string, string | Buffer][] = [];
  if (header.pax.mtime !== undefined) records.push(['mtime', paxTime(header.pax.mtime)]);
  else if (header.mtime < 0 || header.mtime >= OCTAL_11) records.push(['mtime', String(header.mtime)]);
  if (header.uid >= OCTAL_7) records.push(['uid', String(header.uid)]);
  if (header.gid >= OCTAL_7) records.push(['gid', String(header.gid)]);
  if (header.size >= OCTAL_11) records.push(['size', String(header.size)]);
  for (const [name, value] of Object.entries(header.xattrs)) {
    records.push([`SCHILY.xattr.${gnuTarXattrKeyword(name)}`, encodeBytes(value)]);
  }
  if (header.devmajor >= OCTAL_7 || header.devminor >= OCTAL_7) {
    throw new UnsupportedLayerError(
      `layer device ${JSON.stringify(header.name)} has a device number too large`,
    );
  }

  const blocks: Buffer[] = [];
  if (records.length > 0) {
    const data = Buffer.concat(records.map(([key, value]) => paxRecord(key, value)));
    blocks.push(
      headerBlock({ name: Buffer.from('././@PaxHeader'), typeflag: 'x', size: data.length }),
      ...padded(data),
    );
  }
  const name = encodeBytes(header.name);
  const linkname = encodeBytes(header.linkname);
  if (name.length > 100) blocks.push(...longRecord('L', name));
  if (linkname.length > 100) blocks.push(...longRecord('K', linkname));
  const hasLink = header.kind === 'symlink' || header.kind === 'hardlink';
  const isDevice = header.kind === 'char' || header.kind === 'block';
  blocks.push(
    headerBlock({
      name,
      typeflag: TYPEFLAGS[header.kind],
      size: header.size < OCTAL_11 ? header.size : 0,
      mode: header.mode,
      uid: header.uid < OCTAL_7 ? header.uid : 0,
      gid: header.gid < OCTAL_7 ? header.gid : 0,
      mtime: header.mtime >= 0 && header.mtime < OCTAL_11 ? header.mtime : 0,
      linkname: hasLink ? linkname : Buffer.alloc(0),
      devmajor: isDevice ? header.devmajor : 0,
      devminor: isDevice ? header.devminor : 0,
    }),
  );
  return blocks;
}

/** Zero bytes that end a member's data of `size` bytes on a block boundary. */
export function dataPadding(size: number): Buffer {
  return ZERO_BLOCK.subarray(0, padding(size));
}

/** Shared and never written: padding is read-only bytes for the pipe, one allocation for all members. */
const ZERO_BLOCK = Buffer.alloc(BLOCK);

interface HeaderFields {
  readonly name: Buffer;
  readonly typeflag: string;
  readonly size: number;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly mtime?: number;
  readonly linkname?: Buffer;
  readonly devmajor?: number;
  readonly devminor?: number;
}

/** A POSIX ustar header block; names longer than a field are cut, a long-name record before it says the rest. */
function headerBlock(fields: HeaderFields): Buffer {
  const block = Buffer.alloc(BLOCK);
  fields.name.copy(block, 0, 0, 100);
  octal(block, 100, 8, fields.mode ?? 0o644);
  octal(block, 108, 8, fields.uid ?? 0);
  octal(block, 116, 8, fields.gid ?? 0);
  octal(block, 124, 12, fields.size);
  octal(block, 136, 12, fields.mtime ?? 0);
  block.write(fields.typeflag, 156, 1, 'latin1');
  fields.linkname?.copy(block, 157, 0, 100);
  block.write('ustar\u000000', 257, 8, 'latin1');
  octal(block, 329, 8, fields.devmajor ?? 0);
  octal(block, 337, 8, fields.devminor ?? 0);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i] as number;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'latin1');
  return block;
}

function longRecord(typeflag: 'L' | 'K', value: Buffer): Buffer[] {
  const data = Buffer.concat([value, Buffer.alloc(1)]);
  return [headerBlock({ name: Buffer.from('././@LongLink'), typeflag, size: data.length }), ...padded(data)];
}

function padded(data: Buffer): Buffer[] {
  return [data, dataPadding(data.length)];
}

/** `LEN KEY=VALUE\n`, LEN counting its own digits; the key a byte string, the value one or its bytes. */
function paxRecord(key: string, value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? encodeBytes(value) : value;
  const body = Buffer.concat([
    Buffer.from(' '),
    encodeBytes(key),
    Buffer.from('='),
    bytes,
    Buffer.from('\n'),
  ]);
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length++;
  return Buffer.concat([Buffer.from(String(length)), body]);
}

/** A PAX time the member header gave, in the plain form GNU tar reads: no `+`, at most nanoseconds. */
function paxTime(value: string): string {
  const [seconds = '0', fraction = ''] = value.replace(/^\+/, '').split('.');
  const nanos = fraction.slice(0, 9).replace(/0+$/, '');
  return nanos === '' ? seconds : `${seconds}.${nanos}`;
}

/**
 * An xattr name as GNU tar reads it back from a `SCHILY.xattr.` keyword: it decodes `%25` and `%3D` there (its
 * own escapes for `%` and `=`), Go reads the keyword as it is, so a `%` is written as `%25`.
 */
function gnuTarXattrKeyword(name: string): string {
  return name.replaceAll('%', '%25').replaceAll('=', '%3D');
}

function octal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(`${value.toString(8).padStart(length - 1, '0')}\u0000`, offset, length, 'latin1');
}
