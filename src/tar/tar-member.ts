import { UnsupportedLayerError } from '../extract/fast/unsupported-layer-error.js';
import type { GoHeader } from './tar-reader.js';

/**
 * A tar entry as the engine applies it to disk: Go's header (tar-reader.ts) narrowed the way the engine
 * narrows it. Names and link targets are byte strings (byte-string.ts), exact.
 */
export interface TarHeader {
  readonly name: string;
  /** Link target ('' when none). */
  readonly linkname: string;
  readonly kind: MemberKind;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Bytes of data that follow the header (before padding): 0 for every kind but files. */
  readonly size: number;
  /** Whole seconds since the epoch (rounded down). */
  readonly mtime: number;
  readonly devmajor: number;
  readonly devminor: number;
  /** The entry's PAX records that have a value (Go ignores empty ones), byte strings. */
  readonly pax: Readonly<Record<string, string>>;
  /** Extended attributes (PAX `SCHILY.xattr.*`, as Go reads them), by name, byte strings. */
  readonly xattrs: Readonly<Record<string, string>>;
}

export type MemberKind = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

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

/** The member an entry other than a global header (`g`, which engines ignore) stands for on disk. */
export function toMember(header: GoHeader): TarHeader {
  const shown = JSON.stringify(header.name);
  if (header.sparse) throw new UnsupportedLayerError(`layer member ${shown} is a sparse file`);
  const kind = MEMBER_KINDS[header.typeflag];
  if (kind === undefined) {
    throw new UnsupportedLayerError(`layer member ${shown} has tar type ${JSON.stringify(header.typeflag)}`);
  }
  if (kind === 'file' && header.size > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new UnsupportedLayerError(`layer member ${shown} claims ${header.size} bytes`);
  }
  return {
    name: header.name,
    linkname: header.linkname,
    kind,
    mode: Number(header.mode & 0o7777n),
    uid: engineOwner(header.uid),
    gid: engineOwner(header.gid),
    size: kind === 'file' ? Number(header.size) : 0,
    mtime: Number(header.mtime.seconds),
    devmajor: Number(BigInt.asUintN(32, header.devmajor)),
    devminor: Number(BigInt.asUintN(32, header.devminor)),
    pax: Object.fromEntries([...header.pax].filter(([, value]) => value !== '')),
    xattrs: Object.fromEntries(header.xattrs),
  };
}

/**
 * An owner id as the engine leaves it on disk (measured on Engine 20.10): Go's int64 goes to lchown, whose
 * uid_t keeps the low 32 bits, and (uid_t)-1 means "leave unchanged", so the new entry keeps its creator,
 * root. Hence PAX `uid=4294967295` is 0, `uid=4294968296` (2^32+1000) is 1000, `uid=-5` is 4294967291.
 */
export function engineOwner(id: bigint): number {
  const low = Number(BigInt.asUintN(32, id));
  return low === 0xffffffff ? 0 : low;
}
