import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { extractImage } from '../extract/extract-image.js';
import { removeTree } from '../extract/output-folder.js';
import type { ExtractMethod, PullPolicy } from '../options.js';
import type { ProgressListener } from '../progress.js';
import { visible } from '../text/visible.js';
import { readManifestFile } from './read-manifest.js';
import { scanFolder } from './scan-folder.js';
import type { Target } from './target.js';

export interface LoadTargetOptions {
  /** Folder targets: hash every file while scanning (manifests already carry hashes). */
  readonly hash?: boolean;
  /** Folder targets: take the entries from this manifest instead of `<folder>.json` or a scan. */
  readonly manifest?: string | undefined;
  /** Image targets, passed to extractImage. */
  readonly base?: string | undefined;
  readonly pull?: PullPolicy | undefined;
  readonly platform?: string | undefined;
  readonly method?: ExtractMethod | undefined;
  /** docker:// targets: see ExtractOptions.tlsVerify. */
  readonly tlsVerify?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly log?: (line: string) => void;
  /** Image targets: the extraction's progress, as extract reports it. */
  readonly onProgress?: ProgressListener | undefined;
}

/**
 * Loads TARGET and hands it to `use`: a folder is scanned (or read through the manifest beside it),
 * a manifest file is read (its contents from the folder beside it, if any), anything else is an image,
 * extracted into a temporary folder that is removed afterwards.
 */
export async function withTarget<T>(
  spec: string,
  options: LoadTargetOptions,
  use: (target: Target) => Promise<T>,
): Promise<T> {
  const found = await statOrUndefined(spec);
  if (found?.isDirectory()) return use(await loadFolder(spec, options));
  if (found?.isFile()) return use(await loadManifest(spec));
  if (options.manifest !== undefined) {
    throw new UsageError(`--manifest goes with a dump folder, and ${visible(spec)} is not one.`);
  }
  if (/^[./~]|\.json$/.test(spec)) {
    throw new UsageError(
      `No such file or folder ${visible(spec)}; give an image, a dump folder or a manifest file.`,
    );
  }
  return withImage(spec, options, use);
}

async function loadFolder(spec: string, options: LoadTargetOptions): Promise<Target> {
  const folder = resolve(spec);
  const beside = `${folder}.json`;
  const manifestPath =
    options.manifest !== undefined
      ? resolve(options.manifest)
      : (await statOrUndefined(beside))?.isFile()
        ? beside
        : undefined;
  if (manifestPath !== undefined) {
    const manifest = await readManifestFile(manifestPath);
    return {
      kind: 'folder',
      spec,
      manifestPath,
      folder,
      image: manifest.image,
      entries: manifest.entries,
      ownersFrom: 'manifest',
      notes: [
        `Entries and owners come from the manifest ${visible(manifestPath)}; file contents from ${visible(folder)}.`,
        ...selectionNotes(manifest.paths),
      ],
    };
  }
  const { entries, skipped } = await scanFolder(folder, {
    hash: options.hash ?? false,
    signal: options.signal,
  });
  const notes = [
    `Scanned ${visible(folder)}: owners are as on disk (a dump written without root, or by docker cp, has lost them; keep the manifest as ${visible(`${basename(folder)}.json`)} beside it for the true ones).`,
  ];
  if (skipped.length > 0)
    notes.push(
      `Left out ${skipped.length} sockets or other unknown kinds: ${skipped.map((path) => visible(`/${path}`)).join(', ')}.`,
    );
  return {
    kind: 'folder',
    spec,
    manifestPath: null,
    folder,
    image: null,
    entries,
    ownersFrom: 'disk',
    notes,
  };
}

async function loadManifest(spec: string): Promise<Target> {
  const manifestPath = resolve(spec);
  const manifest = await readManifestFile(manifestPath);
  const besideFolder = join(dirname(manifestPath), basename(manifestPath, '.json'));
  const folder =
    besideFolder !== manifestPath && (await statOrUndefined(besideFolder))?.isDirectory()
      ? besideFolder
      : null;
  return {
    kind: 'manifest',
    spec,
    manifestPath,
    folder,
    image: manifest.image,
    entries: manifest.entries,
    ownersFrom: 'manifest',
    notes: [
      folder === null
        ? `No dump folder ${visible(besideFolder)} beside the manifest: users, OS and packages cannot be read (file contents are not in a manifest).`
        : `File contents come from ${visible(folder)}, the dump folder beside the manifest.`,
      ...selectionNotes(manifest.paths),
    ],
  };
}

async function withImage<T>(spec: string, options: LoadTargetOptions, use: (target: Target) => Promise<T>) {
  const temporary = await mkdtemp(join(tmpdir(), 'distroless-contents-inspect-'));
  let value: T;
  try {
    const folder = join(temporary, 'rootfs');
    const result = await extractImage(spec, {
      output: folder,
      ...(options.base !== undefined && { base: options.base }),
      ...(options.pull !== undefined && { pull: options.pull }),
      ...(options.platform !== undefined && { platform: options.platform }),
      ...(options.signal !== undefined && { signal: options.signal }),
      ...(options.method !== undefined && { method: options.method }),
      ...(options.tlsVerify !== undefined && { tlsVerify: options.tlsVerify }),
      ...(options.log !== undefined && { log: options.log }),
      ...(options.onProgress !== undefined && { onProgress: options.onProgress }),
    });
    value = await use({
      kind: 'image',
      spec,
      manifestPath: null,
      folder,
      image: result.image,
      entries: result.manifest.entries,
      ownersFrom: 'manifest',
      notes: [],
    });
  } catch (error) {
    // A cleanup failure is only reported here: it must not hide the first error.
    await removeTree(temporary).catch((cleanup: unknown) =>
      options.log?.(`warning: could not remove ${temporary}: ${(cleanup as Error).message}`),
    );
    throw error;
  }
  await removeTree(temporary);
  return value;
}

/** A `--path` dump holds part of the image: whatever a report or diff says of it is about that part. */
function selectionNotes(paths: readonly string[] | undefined): string[] {
  if (!paths) return [];
  return [
    `Holds only ${paths.map(visible).join(', ')} of the image (extract --path): totals, packages and findings are of those paths alone.`,
  ];
}

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
