import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import { saveImage } from '../docker/save-image.js';
import type { ManifestEntry } from '../manifest.js';
import { splitPath } from '../tar/member-path.js';
import { createLayerFilter } from './fast/layer-filter.js';
import { readSave } from './fast/read-save.js';
import { whiteoutOf } from './fast/whiteout.js';
import { removeTree, STAGING_PREFIX } from './output-folder.js';

/**
 * The engine's archive endpoint walks the container's folder by absolute paths on the daemon and leaves out,
 * without a word, every path too long for them (moby's archive code logs the walk error and goes on). Such a
 * path's deepest ancestor that the archive holds is short of PATH_MAX (4,096) by at most the daemon's own
 * prefix and one component (255): an archive with no path this long cannot have lost one.
 */
const NEAR_PATH_MAX = 1024;

/**
 * The warning to give when the engine's archive (`entries`) left out paths of the image, or undefined. Only an
 * archive with paths near the limit is checked, against the image's own layers; a check that fails is a
 * warning too, since the dump itself is whole as far as the archive goes.
 */
export async function longPathWarning(
  docker: Docker,
  image: Docker.ImageInspectInfo,
  entries: readonly ManifestEntry[],
  dir: string,
  options: { readonly signal?: AbortSignal | undefined; readonly log: (line: string) => void },
): Promise<string | undefined> {
  if (!entries.some((entry) => Buffer.byteLength(entry.path) >= NEAR_PATH_MAX)) return undefined;
  options.log("the archive holds paths near the engine's limit: checking it against the image's own layers");
  let missing: string[];
  try {
    missing = await pathsMissingFromArchive(docker, image, entries, dir, options.signal);
  } catch (error) {
    options.signal?.throwIfAborted();
    const reason = error instanceof Error ? error.message : String(error);
    return `The archive holds paths near the engine's limit, and checking it against the image's layers failed (${reason}); paths too long for the engine may be missing: use --method fast.`;
  }
  if (missing.length === 0) return undefined;
  const shown = missing.slice(0, 3).map(shortPath).join(', ');
  const more = missing.length > 3 ? ` and ${missing.length - 3} more` : '';
  return `The engine's archive left out ${missing.length} path${missing.length === 1 ? '' : 's'} of the image, too long for it to read (${shown}${more}); the dump and the manifest lack them: use --method fast.`;
}

/** A path of thousands of bytes, shortened to its two ends and its length: enough to find it. */
function shortPath(path: string): string {
  if (path.length <= 160) return JSON.stringify(path);
  return `${JSON.stringify(`${path.slice(0, 60)}…${path.slice(-60)}`)} (${Buffer.byteLength(path)} bytes)`;
}

/**
 * The paths of the image (its own layers, from `docker save`, whiteouts applied) that `entries` lack, sorted.
 * `beside` names a folder whose parent may hold layers that arrive before their turn.
 */
async function pathsMissingFromArchive(
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
    const archive = await saveImage(docker, image.Id, signal);
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
  /** Folders this layer already holds: each is added once with its parents (deep nesting stays linear). */
  const folders = new Set<string>();
  const hidden: string[] = [];
  const opaque: string[] = [];
  const filter = createLayerFilter((header) => {
    const parts = splitPath(header.name);
    const name = parts.pop();
    if (name === undefined) return { keep: false };
    for (let i = parts.length; i >= 1; i--) {
      const folder = parts.slice(0, i).join('/');
      if (folders.has(folder)) break;
      folders.add(folder);
      added.push(folder);
    }
    const parent = parts.length > 0 ? `${parts.join('/')}/` : '';
    const whiteout = whiteoutOf(name);
    if (!whiteout) added.push(parent + name);
    else if (whiteout.kind === 'opaque') opaque.push(parent);
    else if (whiteout.kind === 'hides') hidden.push(parent + whiteout.name);
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
