import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, chown, lutimes, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';

/** mtime of every directory and generated file (2000-01-01, the portable mtime of bazel's rules_pkg). */
export const GENERATED_MTIME = 946684800;

/** Writes a generated file with exact owner and mode; chmod comes after chown, which clears setuid bits. */
export async function writeRootfsFile(root, path, content, { mode = 0o644, uid = 0, gid = 0 } = {}) {
  const full = join(root, path);
  await mkdir(dirname(full), { recursive: true });
  await writeFile(full, content);
  await chown(full, uid, gid);
  await chmod(full, mode);
  await lutimes(full, GENERATED_MTIME, GENERATED_MTIME);
}

export async function makeRootfsDir(root, path, { mode = 0o755, uid = 0, gid = 0 } = {}) {
  const full = join(root, path);
  await mkdir(full, { recursive: true });
  await chown(full, uid, gid);
  await chmod(full, mode);
}

export async function makeRootfsSymlink(root, path, target) {
  const full = join(root, path);
  await symlink(target, full);
  await lutimes(full, GENERATED_MTIME, GENERATED_MTIME);
}

/** Gives every directory the same mtime, since extracting and writing into them left build-time stamps. */
export async function settleDirectoryMtimes(root) {
  const pending = [root];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) pending.push(join(dir, entry.name));
    }
    await lutimes(dir, GENERATED_MTIME, GENERATED_MTIME);
  }
}

/**
 * Tars a root folder the way a reproducible image build does: sorted names, numeric owners, no atime/ctime,
 * so the same folder always gives the same bytes (and so the same layer diff_id). Returns that diff_id.
 */
export async function tarRootfs(root, file) {
  await execa('tar', [
    '--create',
    `--file=${file}`,
    `--directory=${root}`,
    '--sort=name',
    '--numeric-owner',
    '--format=posix',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
    '.',
  ]);
  return fileDigest(file);
}

/** `sha256:<hex>` of a file's bytes: for an uncompressed layer tar, its diff_id. */
export async function fileDigest(file) {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return `sha256:${hash.digest('hex')}`;
}
