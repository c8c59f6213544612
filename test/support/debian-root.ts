import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';

const CACHE = '/var/cache/distroless-contents';
export const DEBIAN_ROOT = join(CACHE, 'debian-bookworm-minbase');

/**
 * A real Debian root with dpkg's own database: `debootstrap --variant=minbase bookworm`, made once (about
 * a minute or two) and kept in the cache. Built under a temporary name and renamed when complete, so an
 * interrupted build is never taken for a finished one.
 */
export async function debianRoot(): Promise<string> {
  if (existsSync(join(DEBIAN_ROOT, 'var/lib/dpkg/status'))) return DEBIAN_ROOT;
  mkdirSync(CACHE, { recursive: true });
  const temporary = `${DEBIAN_ROOT}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await execa('debootstrap', ['--variant=minbase', 'bookworm', temporary, 'http://deb.debian.org/debian']);
    try {
      renameSync(temporary, DEBIAN_ROOT);
    } catch (error) {
      // Another run finished first: keep its root.
      if (!existsSync(join(DEBIAN_ROOT, 'var/lib/dpkg/status'))) throw error;
    }
  } finally {
    rmSync(temporary, { recursive: true, force: true });
  }
  return DEBIAN_ROOT;
}
