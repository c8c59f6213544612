import { closeSync, constants, existsSync, openSync } from 'node:fs';

/** Linux names every open descriptor here; the kernel resolves a name below it from the open folder. */
const PROC_FD = '/proc/self/fd';
const hasProcFd = existsSync(PROC_FD);
/** Well below PATH_MAX (4,096 with its NUL), so that a name of up to 255 bytes more still fits. */
const STEP = 2048;
const SLASH = 0x2f;

/**
 * Calls `use` with a name of `path` that the kernel accepts however long `path` is. A dump may hold paths
 * as long as PATH_MAX below its own folder, longer than that with the folder's absolute path before them:
 * those are reached by opening the folders along the path in steps of at most 2 KiB and naming the rest
 * below the last one's /proc/self/fd entry, as GNU tar does with its folders. O_NOFOLLOW guards only the last
 * folder of each step: callers pass paths they built from folders they listed and lstat'd themselves.
 */
export function withShortPath<T>(path: Buffer, use: (short: Buffer) => T): T {
  if (path.length < STEP || !hasProcFd) return use(path);
  const opened: number[] = [];
  try {
    let rest = path;
    let base = Buffer.alloc(0);
    while (base.length + rest.length >= STEP) {
      const cut = rest.lastIndexOf(SLASH, STEP - base.length);
      if (cut <= 0) break;
      const fd = openSync(
        Buffer.concat([base, rest.subarray(0, cut)]),
        constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW,
      );
      opened.push(fd);
      base = Buffer.from(`${PROC_FD}/${fd}`);
      rest = rest.subarray(cut);
    }
    return use(Buffer.concat([base, rest]));
  } finally {
    for (const fd of opened.reverse()) closeSync(fd);
  }
}
