import { dirname } from 'node:path';
import type Docker from 'dockerode';
import { imageInfo } from '../docker/image.js';
import { commandName } from '../invocation.js';
import { removeLeftovers } from '../leftovers.js';
import type { EntryCounts, ImageInfo, Manifest } from '../manifest.js';
import { type ExtractOptions, resolveExtractOptions } from '../options.js';
import { parseReference } from '../reference.js';
import { runLifecycle } from '../run/run-lifecycle.js';
import { extractFileSource } from '../sources/extract-source.js';
import { parseRegistrySource } from '../sources/registry-reference.js';
import { parseFileSource } from '../sources/source-reference.js';
import { dumpWithArticleMethod } from './article-method.js';
import { commitDump } from './commit-dump.js';
import { dumpWithFastMethod } from './fast/fast-method.js';
import { prepareOutput } from './output-folder.js';
import { pathSelection } from './path-selection.js';

/** What {@link extractImage} returns. */
export interface ExtractResult {
  /** Absolute path of the output folder. */
  readonly output: string;
  /** Absolute path of the manifest file, when one was asked for. */
  readonly manifestPath?: string;
  readonly image: ImageInfo;
  readonly counts: EntryCounts;
  readonly manifest: Manifest;
  readonly durationMs: number;
  readonly warnings: readonly string[];
}

/**
 * Dumps an image's whole filesystem to a folder with the article's method: build `FROM base` +
 * `COPY --from=IMAGE / /distroless-contents/`, run it, copy the folder out through the archive endpoint,
 * and remove what was created. Owners, modes, links and special files are kept exactly (owners when root).
 * With `method: 'fast'` the same folder and manifest come from the image's own layers (docker save) instead.
 */
export async function extractImage(image: string, options: ExtractOptions = {}): Promise<ExtractResult> {
  // docker://, oci:, oci-archive: and docker-archive: sources need no engine.
  const registrySource = parseRegistrySource(image);
  if (registrySource) return extractFileSource(registrySource, options);
  const fileSource = parseFileSource(image);
  if (fileSource) return extractFileSource(fileSource, options);
  const started = performance.now();
  const opts = resolveExtractOptions(options);
  const ref = parseReference(image);
  const baseRef = parseReference(opts.base);
  const { signal, log } = opts;
  signal?.throwIfAborted();
  // Before the engine is touched: a bad output or manifest path is a usage error, not a failed run.
  const output = await prepareOutput(opts.output, opts.force, opts.manifest);
  return runLifecycle(
    {
      docker: opts.docker,
      labels: opts.labels,
      signal,
      log,
      keepImage: opts.keepImage || opts.cache,
      beforeWork: (docker) => removeStaleLeftovers(docker, dirname(output.output), log),
      release: () => output.discard(),
    },
    async ({ docker, resources }) => {
      const {
        source,
        entries: written,
        warnings,
        layerPart,
      } = opts.method === 'fast'
        ? await dumpWithFastMethod(docker, ref, output.staging, {
            ...opts,
            progress: opts.onProgress,
            selection: pathSelection(opts.paths),
          })
        : await dumpWithArticleMethod(docker, ref, output.staging, {
            ...opts,
            base: baseRef,
            resources,
            progress: opts.onProgress,
            selection: pathSelection(opts.paths),
          });
      return commitDump(output, {
        method: opts.method,
        image: { ...imageInfo(image, source), ...layerPart },
        paths: opts.paths,
        entries: written,
        warnings,
        started,
      });
    },
  );
}

/** What runs killed outright (SIGKILL) left behind goes with the next run; it never stops this one. */
async function removeStaleLeftovers(docker: Docker, dir: string, log: (line: string) => void): Promise<void> {
  try {
    const removed = await removeLeftovers({ docker, dirs: [dir], sameFolderOnly: true });
    const count = removed.containers.length + removed.images.length + removed.folders.length;
    if (count > 0) {
      log(
        `removed what an interrupted run left: ${removed.containers.length} containers, ${removed.images.length} images, ${removed.folders.length} staging folders`,
      );
    }
  } catch (error) {
    log(
      `warning: could not remove an interrupted run's leftovers (${error instanceof Error ? error.message : error}); run ${commandName('cleanup')}.`,
    );
  }
}
