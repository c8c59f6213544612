import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, openSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { UsageError } from '../errors.js';
import type { EntryType } from '../manifest.js';
import { sortEntries } from '../manifest.js';
import { decodeBytes } from '../tar/byte-string.js';
import { visible } from '../text/visible.js';
import { pathOnDisk } from './path-on-disk.js';
import { withShortPath } from './short-path.js';
import type { InspectEntry } from './target.js';

export interface ScanOptions {
  /** Read every regular file to record its SHA-256 (needed to compare contents). */
  readonly hash?: boolean;
  readonly signal?: AbortSignal | undefined;
}

export interface ScanResult {
  readonly entries: InspectEntry[];
  /** Sockets and other kinds a manifest cannot hold, left out. */
  readonly skipped: readonly string[];
}

/**
 * Lists a dump folder like a manifest: one lstat per entry, nothing read unless `hash` is asked.
 * Walks each folder in name order, as the engine's archive does, so the first path of an inode is the
 * file and later ones are hardlinks to it; on-disk bytes are counted once per inode, as du does.
 * Names are read as bytes and decoded as the manifest decodes tar names, so both give one path the same identity.
 */
export async function scanFolder(root: string, options: ScanOptions = {}): Promise<ScanResult> {
  const entries: InspectEntry[] = [];
  const skipped: string[] = [];
  const inodes = new Map<string, string>();
  // Synchronous calls: tens of thousands of lstats go several times faster than through the thread pool.
  const walk = (dir: Buffer, prefix: string) => {
    for (const { name, bytes } of readNames(dir, prefix)) {
      const path = prefix === '' ? name : `${prefix}/${name}`;
      const absolute = Buffer.concat([dir, SLASH, bytes]);
      const stats = withShortPath(absolute, (short) => lstatSync(short));
      const type = entryType(stats);
      if (type === undefined) {
        skipped.push(path);
        continue;
      }
      const base = {
        path,
        mode: stats.mode & 0o7777,
        uid: stats.uid,
        gid: stats.gid,
        mtime: Math.floor(stats.mtimeMs / 1000),
      };
      const inode = `${stats.dev}:${stats.ino}`;
      const first = type === 'file' && stats.nlink > 1 ? inodes.get(inode) : undefined;
      if (first !== undefined) {
        entries.push({ ...base, type: 'hardlink', size: 0, target: first, diskBytes: 0 });
        continue;
      }
      if (type === 'file' && stats.nlink > 1) inodes.set(inode, path);
      entries.push({
        ...base,
        type,
        size: type === 'file' ? stats.size : 0,
        diskBytes: stats.blocks * 512,
        ...(type === 'symlink' && {
          target: decodeBytes(
            withShortPath(absolute, (short) => readlinkSync(short, { encoding: 'buffer' })),
          ),
        }),
        ...((type === 'char' || type === 'block') && deviceNumbers(stats.rdev)),
      });
      if (type === 'dir') walk(absolute, path);
    }
  };
  walk(Buffer.from(root), '');
  if (options.hash) await hashFiles(root, entries, options.signal);
  return { entries: sortEntries(entries), skipped };
}

const SLASH = Buffer.from('/');

function readNames(dir: Buffer, prefix: string): { name: string; bytes: Buffer }[] {
  try {
    const names = withShortPath(dir, (short) => readdirSync(short, { encoding: 'buffer' })).map((bytes) => ({
      name: decodeBytes(bytes),
      bytes,
    }));
    // By UTF-16 code unit of the decoded name, the order the manifest uses.
    return names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES') {
      throw new UsageError(
        `Cannot read ${visible(`/${prefix}`)} in ${visible(decodeBytes(dir))}: permission denied; run as root, or report the manifest written beside the dump.`,
        { cause: error },
      );
    }
    throw error;
  }
}

function entryType(stats: Stats): EntryType | undefined {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'dir';
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isCharacterDevice()) return 'char';
  if (stats.isBlockDevice()) return 'block';
  return undefined;
}

/** glibc's encoding of dev_t (major in bits 8-19 and 32-63, minor in bits 0-7 and 20-31). */
function deviceNumbers(rdev: number): { devmajor: number; devminor: number } {
  const dev = BigInt(rdev);
  return {
    devmajor: Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn)),
    devminor: Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn)),
  };
}

async function hashFiles(root: string, entries: InspectEntry[], signal?: AbortSignal): Promise<void> {
  for (const [index, entry] of entries.entries()) {
    if (entry.type !== 'file') continue;
    const hash = createHash('sha256');
    const fd = withShortPath(pathOnDisk(root, entry.path), (short) => openSync(short, 'r'));
    await pipeline(createReadStream('', { fd }), hash, signal ? { signal } : {});
    entries[index] = { ...entry, sha256: hash.digest('hex') };
  }
}
