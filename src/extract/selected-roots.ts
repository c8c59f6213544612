import { randomBytes } from 'node:crypto';
import { chmod, lchown, link, lstat, lutimes, mkdir, symlink, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type Docker from 'dockerode';
import { DockerError } from '../errors.js';
import type { ManifestEntry } from '../manifest.js';
import { encodeBytes } from '../tar/byte-string.js';
import { dumpImageLayers } from './fast/fast-method.js';
import { entryOf } from './hardlink-groups.js';
import { removeTree, STAGING_PREFIX } from './output-folder.js';
import { type PathSelection, SelectionError } from './path-selection.js';

const isRoot = process.getuid?.() === 0;

/**
 * The article method with `--path`: each selected path and the folders above it as the image's own layers
 * hold them (owner, mode, mtime), read with the fast method's applier into a scratch folder (what is below a
 * selected path is skipped, bodies included).
 * COPY makes the folders above a path, and the path's own folder, root:root 0755 at the time of the build,
 * and follows a symlink it is given; these entries put back what the image has. Fails, naming the path,
 * when the image lacks a selected path or reaches it through a symlink (path-selection.ts).
 */
export async function readSelectedRoots(
  docker: Docker,
  image: Docker.ImageInspectInfo,
  beside: string,
  selection: PathSelection,
  options: { readonly signal?: AbortSignal | undefined; readonly log: (line: string) => void },
): Promise<SelectedRoots> {
  // Named like a staging folder, so the clean-up of an interrupted run finds it too.
  const scratch = join(
    dirname(beside),
    `${STAGING_PREFIX}roots-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  await mkdir(scratch);
  try {
    const roots = selection.roots();
    const { entries } = await dumpImageLayers(docker, image, scratch, {
      ...options,
      selection: roots,
    }).catch((error: unknown) => {
      // A failed save says to use the article method, which this is: say what needs the save instead.
      if (!(error instanceof DockerError)) throw error;
      throw new DockerError(
        error.code,
        `--path reads the folders above each selected path from the image's own layers, and ${error.message.replace(/; use --method article\.$/, '')}; without --path the article method needs no docker save.`,
        { cause: error },
      );
    });
    // A selected path that is itself a hardlink of a file below another selected path: the same case.
    const rootLinks = entries.flatMap((entry) =>
      entry.type === 'hardlink' && entry.target !== undefined
        ? [{ path: entry.path, target: entry.target }]
        : [],
    );
    refuseFifoRoots(selection, entries);
    return { entries, links: [...roots.links, ...rootLinks] };
  } finally {
    await removeTree(scratch);
  }
}

/**
 * A selected path that is itself a FIFO: COPY opens the path it is given, and an open FIFO with no writer
 * blocks the build for ever (one below a selected folder is copied as a FIFO). Refused before the build.
 */
function refuseFifoRoots(selection: PathSelection, entries: readonly ManifestEntry[]): void {
  const fifos = new Set(entries.filter((entry) => entry.type === 'fifo').map((entry) => `/${entry.path}`));
  const path = selection.paths.find((selected) => fifos.has(selected));
  if (path === undefined) return;
  throw new SelectionError(
    `--path ${path}: ${path} is a FIFO in the image, and COPY would wait for ever opening it (a FIFO below a selected folder is fine); use --method fast for it.`,
  );
}

export interface SelectedRoots {
  /** The selected paths and the folders above them. */
  readonly entries: ManifestEntry[];
  /** Hardlinks from below one selected path to below another, which separate COPY steps break. */
  readonly links: PathSelection['links'];
}

/** The selected paths COPY is to copy: a symlink is made from its entry instead, since COPY would follow it. */
export function pathsToCopy(selection: PathSelection, roots: readonly ManifestEntry[]): string[] {
  const symlinks = new Set(
    roots.filter((entry) => entry.type === 'symlink').map((entry) => `/${entry.path}`),
  );
  return selection.paths.filter((path) => !symlinks.has(path));
}

/**
 * Links again, in `dir` and in `entries`, the names the image holds as one inode below two selected paths:
 * each path is a COPY step of its own, and the copies arrive as separate files. Only where both arrived as
 * files with one content; the folder's mtime is put back as it was.
 */
export async function relinkAcrossPaths(
  dir: string,
  links: SelectedRoots['links'],
  entries: readonly ManifestEntry[],
): Promise<ManifestEntry[]> {
  const byPath = new Map(entries.map((entry) => [entry.path, entry]));
  const at = (path: string) => Buffer.concat([Buffer.from(`${dir}/`), encodeBytes(path)]);
  for (const { path, target } of links) {
    const copy = byPath.get(path);
    let file = byPath.get(target);
    if (file?.type === 'hardlink') file = byPath.get(file.target ?? '');
    if (copy?.type !== 'file' || file?.type !== 'file' || copy.sha256 !== file.sha256) continue;
    const folder = at(dirname(path));
    const before = await lstat(folder);
    await unlink(at(path));
    await link(at(file.path), at(path));
    await lutimes(folder, before.atime, before.mtime);
    byPath.set(
      path,
      entryOf({ ...file, path, type: 'hardlink', size: 0, target: file.path, sha256: undefined }),
    );
  }
  return [...byPath.values()];
}

/**
 * Gives the selected paths and the folders above them, in `dir` and in `written` (the entries the container's
 * archive gave), the image's metadata from `roots`: missing folders and selected symlinks are made, then
 * owners (as root), modes and mtimes set, deepest first so that no change moves a folder's time again.
 */
export async function restoreSelectedRoots(
  dir: string,
  roots: readonly ManifestEntry[],
  written: readonly ManifestEntry[],
): Promise<ManifestEntry[]> {
  const byPath = new Map(written.map((entry) => [entry.path, entry]));
  const at = (path: string) => Buffer.concat([Buffer.from(`${dir}/`), encodeBytes(path)]);
  const shallowFirst = [...roots].sort((a, b) => a.path.split('/').length - b.path.split('/').length);
  for (const entry of shallowFirst) {
    const copied = byPath.get(entry.path)?.type;
    if (copied === entry.type || (fileLike(copied) && fileLike(entry.type))) continue;
    if (entry.type === 'dir') await mkdir(at(entry.path), { recursive: true });
    else if (entry.type === 'symlink') await symlink(encodeBytes(entry.target ?? ''), at(entry.path));
    else throw new Error(`COPY did not write ${entry.path} (${entry.type})`);
  }
  for (const entry of [...shallowFirst].reverse()) {
    const path = at(entry.path);
    if (isRoot) await lchown(path, entry.uid, entry.gid);
    if (entry.type !== 'symlink') await chmod(path, entry.mode);
    await lutimes(path, entry.mtime, entry.mtime);
    const copied = byPath.get(entry.path);
    // The archive's content and xattrs stay (the engine's view); the metadata is the image's.
    byPath.set(
      entry.path,
      copied ? { ...copied, mode: entry.mode, uid: entry.uid, gid: entry.gid, mtime: entry.mtime } : entry,
    );
  }
  return [...byPath.values()];
}

/** A regular file's name, the inode's first or another: COPY and the layers may disagree on which. */
function fileLike(type: ManifestEntry['type'] | undefined): boolean {
  return type === 'file' || type === 'hardlink';
}
