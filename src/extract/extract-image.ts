import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type Docker from 'dockerode';
import { connectDocker, engineLost, pingEngine } from '../docker/client.js';
import { imageInfo } from '../docker/image.js';
import { removeRunResources } from '../docker/run-resources.js';
import { InterruptedError } from '../errors.js';
import { RUN_LABEL, runLabels, TOOL_NAME } from '../labels.js';
import { removeLeftovers } from '../leftovers.js';
import { countEntries, type EntryCounts, type ImageInfo, type Manifest, sortEntries } from '../manifest.js';
import { type ExtractOptions, resolveExtractOptions } from '../options.js';
import { parseReference } from '../reference.js';
import { extractFileSource } from '../sources/extract-source.js';
import { parseFileSource } from '../sources/source-reference.js';
import { TOOL_VERSION } from '../version.js';
import { dumpWithArticleMethod } from './article-method.js';
import { dumpWithFastMethod } from './fast/fast-method.js';
import { canonicaliseHardlinks } from './hardlink-groups.js';
import { prepareOutput } from './output-folder.js';

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
  // oci:, oci-archive: and docker-archive: sources need no engine.
  const fileSource = parseFileSource(image);
  if (fileSource) return extractFileSource(fileSource, options);
  const started = performance.now();
  const opts = resolveExtractOptions(options);
  const ref = parseReference(image);
  const baseRef = parseReference(opts.base);
  const { signal, log } = opts;
  signal?.throwIfAborted();
  const docker = opts.docker ?? connectDocker();
  const output = await prepareOutput(opts.output, opts.force);
  const labels = runLabels(opts.labels);
  let failed = true;
  let touchedDocker = false;
  try {
    await pingEngine(docker, signal);
    await removeStaleLeftovers(docker, dirname(output.output), log);
    touchedDocker = true;
    const {
      source,
      entries: written,
      warnings,
    } = opts.method === 'fast'
      ? await dumpWithFastMethod(docker, ref, output.staging, { ...opts, progress: opts.onProgress })
      : await dumpWithArticleMethod(docker, ref, output.staging, {
          ...opts,
          base: baseRef,
          labels,
          progress: opts.onProgress,
        });
    await output.commit();

    const info = imageInfo(image, source);
    const entries = sortEntries(canonicaliseHardlinks(written));
    const manifest: Manifest = {
      schema: 1,
      tool: { name: TOOL_NAME, version: TOOL_VERSION },
      method: opts.method,
      image: info,
      entries,
    };
    const manifestPath = opts.manifest === undefined ? undefined : resolve(opts.manifest);
    if (manifestPath) await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    failed = false;
    return {
      output: output.output,
      ...(manifestPath && { manifestPath }),
      image: info,
      counts: countEntries(entries),
      manifest,
      durationMs: Math.round(performance.now() - started),
      warnings,
    };
  } catch (error) {
    if (signal?.aborted) throw interrupted(signal.reason, error);
    // Only once the engine has answered can it have stopped answering "during the run".
    throw (touchedDocker && (await engineLost(docker, error))) || error;
  } finally {
    const errors: unknown[] = [];
    await output.discard().catch((error: unknown) => errors.push(error));
    if (touchedDocker)
      errors.push(
        ...(await removeRunResources(docker, labels, {
          keepImage: (opts.keepImage || opts.cache) && !failed,
        })),
      );
    reportCleanup(errors, failed, log);
  }
}

/** A cleanup failure is reported, but never hides the run's own error. */
export function reportCleanup(
  errors: readonly unknown[],
  failed: boolean,
  log: (line: string) => void,
): void {
  if (errors.length === 0) return;
  const reasons = errors.map((error) => (error instanceof Error ? error.message : String(error))).join('; ');
  if (failed) {
    log(`warning: cleanup after the failure was incomplete: ${reasons}; run npm run cleanup.`);
    return;
  }
  throw new AggregateError(errors, `Cleanup failed: ${reasons}; remove what is labelled ${RUN_LABEL}.`);
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
      `warning: could not remove an interrupted run's leftovers (${error instanceof Error ? error.message : error}); run npm run cleanup.`,
    );
  }
}

function interrupted(reason: unknown, cause: unknown): InterruptedError {
  if (reason instanceof InterruptedError) return reason;
  return new InterruptedError('abort', { cause });
}

async function writeFileAtomic(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, content);
    await rename(temporary, path);
  } finally {
    await rm(temporary, { force: true });
  }
}
