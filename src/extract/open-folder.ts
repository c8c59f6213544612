import { existsSync } from 'node:fs';
import { constants, open } from 'node:fs/promises';

/** Linux names every open descriptor here; the kernel resolves a name below it from the open folder. */
const PROC_FD = '/proc/self/fd';
const hasProcFd = existsSync(PROC_FD);

/** An open folder, and a short path that names it while it stays open. */
export interface OpenFolder {
  /** `/proc/self/fd/N` (or the folder's own path where there is no /proc). */
  readonly path: string;
  close(): Promise<void>;
}

/**
 * Opens `path` (never through a symlink) and names it by its descriptor, so that a name below it may be as
 * long as PATH_MAX on its own: an image's path of 4,000 bytes fits, whatever the length of the output's own
 * absolute path. GNU tar does the same with its -C folder.
 */
export async function openFolder(path: string): Promise<OpenFolder> {
  if (!hasProcFd) return { path, close: async () => {} };
  const handle = await open(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  return { path: `${PROC_FD}/${handle.fd}`, close: () => handle.close() };
}
