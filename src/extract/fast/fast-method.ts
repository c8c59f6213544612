import { randomBytes } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { daemonMessage } from '../../docker/client.js';
import { ensureImage, type PullPolicy } from '../../docker/image.js';
import { saveImage } from '../../docker/save-image.js';
import { DistrolessContentsError, DockerError, OutputError } from '../../errors.js';
import type { ManifestEntry } from '../../manifest.js';
import { type ProgressListener, step } from '../../progress.js';
import type { ImageReference } from '../../reference.js';
import type { DumpedImage } from '../article-method.js';
import { countProgress } from '../count-progress.js';
import { openFolder } from '../open-folder.js';
import { removeTree, STAGING_PREFIX } from '../output-folder.js';
import { checkSelectedInTree, type PathSelection } from '../path-selection.js';
import { xattrWarnings } from '../xattr-warnings.js';
import { applyLayer } from './apply-layer.js';
import { type LayerPart, layerPart } from './layer-history.js';
import { LayerTree } from './layer-tree.js';
import { MissingLayerError, readSave } from './read-save.js';
import { missingLayerMessage, saveFailureMessage } from './save-failure.js';

export interface FastDumpOptions {
  readonly signal?: AbortSignal | undefined;
  readonly log: (line: string) => void;
  /** Bytes of `docker save` read and layer members seen so far, at most about ten times a second. */
  readonly onProgress?: ((bytes: number, entries: number) => void) | undefined;
  /** `--path`: only these subtrees and the folders above them. */
  readonly selection?: PathSelection | undefined;
}

export interface FastDump {
  readonly entries: ManifestEntry[];
  readonly warnings: string[];
  readonly layerPart: LayerPart | undefined;
}

const isRoot = process.getuid?.() === 0;

/**
 * The fast method: the image's own layers from `docker save`, applied lowest first onto `dir` with their
 * whiteouts by the image spec's changeset rules, without building an image or running a container. The
 * manifest is read in the same pass. Layers that arrive before their turn wait in a folder beside `dir`.
 */
export async function dumpImageLayers(
  docker: Docker,
  image: Docker.ImageInspectInfo,
  dir: string,
  options: FastDumpOptions,
): Promise<FastDump> {
  const { signal, log, selection } = options;
  const diffIds = image.RootFS?.Layers ?? [];
  const tree = new LayerTree();
  const xattrRefusals: string[] = [];
  // Named like a staging folder, so the clean-up of an interrupted run finds it too.
  const spillDir = join(
    dirname(dir),
    `${STAGING_PREFIX}layers-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  let failed = true;
  let entries: ManifestEntry[] = [];
  let layers: LayerPart | undefined;
  let skipped: string[] = [];
  const folder = await openFolder(dir);
  try {
    let archive: Readable;
    try {
      archive = await saveImage(docker, image.Id, signal);
    } catch (error) {
      signal?.throwIfAborted();
      throw new DockerError('EXTRACT_FAILED', saveFailureMessage(image.Id, daemonMessage(error)), {
        cause: error,
      });
    }
    const reading = readSave(archive, {
      diffIds,
      spillDir,
      signal,
      apply: async (layer, index) => {
        log(`applying layer ${index + 1} of ${diffIds.length}`);
        await applyLayer(layer, dir, tree, {
          index,
          root: folder.path,
          signal,
          xattrRefusals,
          selection,
        });
      },
    });
    // readSave has attached its consumer by now (synchronously): counting cannot take a chunk from it.
    const counted = options.onProgress && countProgress(archive, () => tree.members, options.onProgress);
    const saved = await reading;
    counted?.();
    checkSelectedInTree(selection, tree);
    layers = layerPart(
      tree,
      diffIds,
      (saved.config as { history?: unknown } | undefined)?.history,
      selection,
    );
    entries = tree.entries();
    skipped = await missingDevices(folder.path, entries);
    failed = false;
  } catch (error) {
    signal?.throwIfAborted();
    if (error instanceof DistrolessContentsError) throw error;
    if (error instanceof MissingLayerError) {
      throw new DockerError('EXTRACT_FAILED', missingLayerMessage(image.Id, error.member), { cause: error });
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new OutputError('EXTRACT_FAILED', `Reading the image's layers failed: ${reason}`, { cause: error });
  } finally {
    await folder.close();
    // A failed cleanup is worth an error of its own only when it is the sole failure.
    await removeTree(spillDir).catch((error: unknown) => {
      if (!failed) throw error;
      log(`warning: could not remove ${spillDir}: ${error instanceof Error ? error.message : String(error)}`);
    });
  }
  const warnings: string[] = [];
  if (skipped.length > 0) {
    warnings.push(
      `Skipped ${skipped.length} device node${skipped.length === 1 ? '' : 's'} (creating them needs root): ${skipped.join(', ')}; the manifest lists them.`,
    );
  }
  warnings.push(...xattrWarnings(entries, xattrRefusals));
  return { entries, warnings, layerPart: layers };
}

/** Device entries that are not on disk: expected when not root, since mknod needs privilege. */
async function missingDevices(dir: string, entries: readonly ManifestEntry[]): Promise<string[]> {
  if (isRoot) return [];
  const missing: string[] = [];
  for (const entry of entries) {
    if (entry.type !== 'char' && entry.type !== 'block') continue;
    await lstat(join(dir, entry.path)).catch(() => missing.push(entry.path));
  }
  // In path order, as the article method's archive lists them.
  return missing.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export interface FastMethodOptions {
  readonly pull: PullPolicy;
  readonly platform?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly log: (line: string) => void;
  readonly progress?: ProgressListener | undefined;
  readonly selection?: PathSelection | undefined;
}

/** The fast method, steps by step: make sure the image is there, then write its layers into `dir`. */
export async function dumpWithFastMethod(
  docker: Docker,
  image: ImageReference,
  dir: string,
  options: FastMethodOptions,
): Promise<DumpedImage> {
  const { signal, log, progress } = options;
  const source = await step(progress, 'resolve', () =>
    ensureImage(docker, image, { pull: options.pull, platform: options.platform, signal, log, progress }),
  );
  const dumped = await step(
    progress,
    'copy',
    () =>
      dumpImageLayers(docker, source, dir, {
        signal,
        log,
        selection: options.selection,
        ...(progress && {
          onProgress: (bytes: number, entries: number) =>
            progress({ kind: 'transfer', step: 'copy', bytes, entries, totalBytes: source.Size }),
        }),
      }),
    "the image's own layers (docker save)",
  );
  return { source, ...dumped };
}
