import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import type { ManifestEntry } from '../manifest.js';
import { createLayerFilter } from './fast/layer-filter.js';
import { splitPath } from './fast/member-path.js';
import { readSave } from './fast/read-save.js';
import { utf8 } from './fast/tar-header.js';
import { removeTree, STAGING_PREFIX } from './output-folder.js';

/**
 * The engine's archive endpoint walks the container's folder by absolute paths on the daemon and leaves out,
 * without a word, every path too long for them (moby's archive code logs the walk error and goes on). Such a
 * path's deepest ancestor that the archive holds is short of PATH_MAX (4,096) by at most the daemon's own
 * prefix and one component (255): an archive with no path this long cannot have lost one.
 */
const NEAR_PATH_MAX = 1024;

/** True when the archive holds a path long enough that the engine may have left some below it out. */
export function mayMissLongPaths(entries: readonly ManifestEntry[]): boolean {
  return entries.some((entry) => Buffer.byteLength(entry.path) >= NEAR_PATH_MAX);
}

/**
 * The paths of the image (its own layers, from `docker save`, whiteouts applied) that `entries` lack, sorted.
 * `beside` names a folder whose parent may hold layers that arrive before their turn.
 */
export async function pathsMissingFromArchive(
  docker: Docker,
  image: Docker.ImageInspectInfo,
  entries: readonly ManifestEntry[],
  beside: string,
  signal?: AbortSignal,
): Promise<string[]> {
  const spillDir = join(
    dirname(beside),
    `${STAGING_PREFIX}layers-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  const paths = new Set<string>();
  try {
    const archive = (await docker.getImage(image.Id).get()) as unknown as Readable;
    await readSave(archive, {
      diffIds: image.RootFS?.Layers ?? [],
      spillDir,
      signal,
      apply: (layer) => listLayer(layer, paths, signal),
    });
  } finally {
    await removeTree(spillDir);
  }
  for (const entry of entries) paths.delete(entry.path);
  return [...paths].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Applies one layer's names to `paths`, as the engine stacks them: whiteouts hide the layers below. */
async function listLayer(layer: Readable, paths: Set<string>, signal?: AbortSignal): Promise<void> {
  const added: string[] = [];
  const hidden: string[] = [];
  const opaque: string[] = [];
  const filter = createLayerFilter((header) => {
    const parts = splitPath(header.name).map(utf8);
    const name = parts.pop();
    if (name === undefined) return { keep: false };
    for (let i = 1; i <= parts.length; i++) added.push(parts.slice(0, i).join('/'));
    const parent = parts.length > 0 ? `${parts.join('/')}/` : '';
    if (name === '.wh..wh..opq') opaque.push(parent);
    else if (!name.startsWith('.wh.')) added.push(parent + name);
    // `.wh..wh.*` names other than the opaque marker are the engine's own bookkeeping, hiding nothing.
    else if (!name.startsWith('.wh..wh.')) hidden.push(parent + name.slice(4));
    return { keep: false };
  });
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  await pipeline(layer, filter, discard, ...(signal ? [{ signal }] : []));
  if (hidden.length > 0 || opaque.length > 0) {
    for (const path of [...paths]) {
      if (hidden.some((gone) => path === gone || path.startsWith(`${gone}/`))) paths.delete(path);
      else if (opaque.some((dir) => path.startsWith(dir) && path !== dir.slice(0, -1))) paths.delete(path);
    }
  }
  for (const path of added) paths.add(path);
}
