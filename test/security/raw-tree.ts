import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';

// Trees read with names as bytes: hostile images hold names that are not UTF-8, and a string path would be
// re-encoded and miss them. Paths are Buffers joined with '/', relative to the root, the root left out.

export type RawEntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'char' | 'block' | 'socket';

export interface RawTreeEntry {
  readonly path: Buffer;
  readonly type: RawEntryType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly nlink: number;
  readonly ino: number;
  readonly rdev: number;
  readonly sha256?: string;
  readonly target?: Buffer;
}

/** Every entry below `root`, never following a symlink, sorted by path bytes. */
export async function readRawTree(root: string): Promise<RawTreeEntry[]> {
  const entries: RawTreeEntry[] = [];
  const base = Buffer.from(root);
  const pending: Buffer[] = [Buffer.alloc(0)];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    const names = await readdir(join(base, dir), { encoding: 'buffer' });
    for (const name of names) {
      const path = dir.length === 0 ? name : join(dir, name);
      const full = join(base, path);
      const stat = await lstat(full);
      const type = typeOf(stat);
      if (type === 'dir') pending.push(path);
      entries.push({
        path,
        type,
        mode: stat.mode & 0o7777,
        uid: stat.uid,
        gid: stat.gid,
        size: type === 'file' ? stat.size : 0,
        mtimeMs: stat.mtimeMs,
        nlink: stat.nlink,
        ino: stat.ino,
        rdev: stat.rdev,
        ...(type === 'file' && { sha256: await fileSha256(full) }),
        ...(type === 'symlink' && { target: await readlink(full, { encoding: 'buffer' }) }),
      });
    }
  }
  return entries.sort((a, b) => Buffer.compare(a.path, b.path));
}

/** One hash of everything about a tree that a write through it could change: names, types, modes, owners, times, contents, targets. */
export async function treeDigest(root: string): Promise<string> {
  const hash = createHash('sha256');
  const rootStat = await lstat(root);
  hash.update(`root ${rootStat.mode} ${rootStat.uid} ${rootStat.gid} ${rootStat.mtimeMs}\n`);
  for (const entry of await readRawTree(root)) {
    hash.update(entry.path).update('\0');
    const { path: _path, target, ino: _ino, ...fields } = entry;
    hash.update(JSON.stringify(fields));
    if (target) hash.update(target);
    hash.update('\n');
  }
  return hash.digest('hex');
}

/** A tree as `path → description` with names decoded as UTF-8 (U+FFFD for invalid bytes), for readable test failures. */
export function describeTree(entries: readonly RawTreeEntry[]): Record<string, string> {
  return Object.fromEntries(
    entries.map((entry) => [
      entry.path.toString('utf8'),
      entry.type === 'symlink' ? `symlink -> ${entry.target?.toString('utf8')}` : entry.type,
    ]),
  );
}

async function fileSha256(path: Buffer): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

function join(a: Buffer, b: Buffer): Buffer {
  return Buffer.concat([a, Buffer.from('/'), b]);
}

function typeOf(stat: Awaited<ReturnType<typeof lstat>>): RawEntryType {
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'dir';
  if (stat.isSymbolicLink()) return 'symlink';
  if (stat.isFIFO()) return 'fifo';
  if (stat.isCharacterDevice()) return 'char';
  if (stat.isBlockDevice()) return 'block';
  return 'socket';
}
