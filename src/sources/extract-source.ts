import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InterruptedError, UsageError } from '../errors.js';
import { commitDump } from '../extract/commit-dump.js';
import type { ExtractResult } from '../extract/extract-image.js';
import { layerPart } from '../extract/fast/layer-history.js';
import { LayerTree } from '../extract/fast/layer-tree.js';
import { prepareOutput, removeTree, STAGING_PREFIX } from '../extract/output-folder.js';
import { checkSelectedInTree, pathSelection } from '../extract/path-selection.js';
import { commandName } from '../invocation.js';
import type { ImageInfo } from '../manifest.js';
import { type ExtractOptions, resolveExtractOptions } from '../options.js';
import { step } from '../progress.js';
import { applySourceLayer } from './apply-source-layers.js';
import { type BlobStore, folderStore, unpackArchive } from './blob-store.js';
import { readDockerArchive } from './docker-archive.js';
import { readOciLayout } from './oci-layout.js';
import { hostPlatform } from './platform.js';
import { RegistryClient } from './registry-client.js';
import { readRegistryImage } from './registry-image.js';
import type { RegistrySource } from './registry-reference.js';
import { registryStore } from './registry-store.js';
import { SourceError } from './source-error.js';
import type { SourceImage } from './source-image.js';
import type { FileSource } from './source-reference.js';

/**
 * Dumps an image from an OCI layout, an oci-archive, a docker-archive or a registry (`docker://`): no
 * engine is asked anything. The
 * layers go through the fast method's applier, so the folder and manifest are those `--method fast` writes
 * for the same image; the image part of the manifest comes from the source's own config and manifest.
 */
export async function extractFileSource(
  source: FileSource | RegistrySource,
  options: ExtractOptions,
): Promise<ExtractResult> {
  const started = performance.now();
  if (options.method === 'article' || options.cache) {
    throw new UsageError(
      `${source.raw} is read without an engine, from the image's own layers; drop ${options.cache ? '--cache' : '--method article'} (the article method builds and runs in an engine).`,
    );
  }
  // Read like --method fast, whatever the default method is (paths are checked as the fast method takes them).
  const opts = resolveExtractOptions({ ...options, method: 'fast' });
  const { signal, log } = opts;
  signal?.throwIfAborted();
  if (source.transport !== 'docker') await checkPath(source);
  const output = await prepareOutput(opts.output, opts.force, opts.manifest);
  // Named like a staging folder, so the clean-up of an interrupted run finds it too.
  const spillDir = join(
    dirname(output.output),
    `${STAGING_PREFIX}archive-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  const platform = opts.platform ?? hostPlatform();
  // Ends the registry's downloads when the run ends, however it ends.
  const downloads = new AbortController();
  let settled: Promise<void> = Promise.resolve();
  let failed = true;
  try {
    const progress = opts.onProgress;
    const { store, image } = await step(
      progress,
      'resolve',
      async () => {
        if (source.transport === 'docker') {
          const client = await RegistryClient.open(source, {
            tlsVerify: opts.tlsVerify,
            signal: signal ? AbortSignal.any([signal, downloads.signal]) : downloads.signal,
          });
          const image = await readRegistryImage(client, source, platform, opts.platform !== undefined);
          const spilled = await registryStore(client, image, spillDir);
          settled = spilled.settled;
          return { store: spilled.store, image };
        }
        const store: BlobStore =
          source.transport === 'oci'
            ? folderStore(source.path)
            : await unpackArchive(source.path, spillDir, signal);
        const read = source.transport === 'docker-archive' ? readDockerArchive : readOciLayout;
        return { store, image: await read(store, source, platform, opts.platform !== undefined) };
      },
      source.raw,
    );
    const tree = new LayerTree();
    const selection = pathSelection(opts.paths);
    const skipped = await step(
      progress,
      'copy',
      async () => {
        let devices = 0;
        // Bytes of the stored blobs of the layers applied so far, for progress.
        let applied = 0;
        for (const [index, layer] of image.layers.entries()) {
          signal?.throwIfAborted();
          log(`applying layer ${index + 1} of ${image.layers.length}`);
          let current = 0;
          devices += await applySourceLayer(store, layer, output.staging, tree, {
            index,
            count: image.layers.length,
            signal,
            selection,
            ...(progress && {
              onBytes: (bytes: number) => {
                current = bytes;
                progress({ kind: 'transfer', step: 'copy', bytes: applied + bytes, entries: tree.members });
              },
            }),
          });
          applied += current;
        }
        checkSelectedInTree(selection, tree);
        return devices;
      },
      "the image's own layers",
    );
    const layers = layerPart(
      tree,
      image.layers.map((layer) => layer.diffId),
      image.history,
      selection,
    );
    const result = await commitDump(output, {
      method: 'fast',
      image: { ...sourceInfo(source.raw, image), ...layers },
      paths: opts.paths,
      entries: tree.entries(),
      warnings:
        skipped > 0
          ? [
              `Skipped ${skipped} device node${skipped === 1 ? '' : 's'} (creating them needs root); the manifest lists them.`,
            ]
          : [],
      started,
    });
    failed = false;
    return result;
  } catch (error) {
    if (signal?.aborted) {
      throw signal.reason instanceof InterruptedError
        ? signal.reason
        : new InterruptedError('abort', { cause: error });
    }
    throw error;
  } finally {
    downloads.abort();
    await settled;
    await output
      .discard()
      .catch((error: unknown) => log(`warning: could not remove ${output.staging}: ${String(error)}`));
    await removeTree(spillDir).catch((error: unknown) => {
      log(
        `warning: could not remove ${spillDir}: ${String(error)}${failed ? '' : `; run ${commandName('cleanup')}`}`,
      );
    });
  }
}

/** The manifest's image part, as imageInfo gives it for an engine image. */
function sourceInfo(reference: string, image: SourceImage): ImageInfo {
  const list = (value: string[] | string | null | undefined) =>
    value === null || value === undefined ? null : typeof value === 'string' ? [value] : value;
  return {
    reference,
    id: image.id,
    ...(image.digest !== undefined && { digest: image.digest }),
    platform: image.platform,
    user: image.config.User ?? '',
    workdir: image.config.WorkingDir ?? '',
    env: image.config.Env ?? [],
    entrypoint: list(image.config.Entrypoint),
    cmd: list(image.config.Cmd),
  };
}

/** A missing path or one of the wrong kind is one line before any output folder is made. */
async function checkPath(source: FileSource): Promise<void> {
  const found = await stat(source.path).catch(() => undefined);
  const folder = source.transport === 'oci';
  if (found === undefined) {
    throw new SourceError(`No such ${folder ? 'folder' : 'file'} ${source.path} (from ${source.raw}).`);
  }
  if (folder !== found.isDirectory()) {
    throw new SourceError(
      folder
        ? `${source.path} is a file, not an OCI layout folder; for a tar of one write oci-archive:${source.path}.`
        : `${source.path} is a folder, not an archive; for an OCI layout folder write oci:${source.path}.`,
    );
  }
}
