import { join, resolve } from 'node:path';
import { DistrolessContentsError, InterruptedError } from '../errors.js';
import { type ExtractResult, extractImage } from '../extract/extract-image.js';
import type { ImageInfo } from '../manifest.js';
import { type ExtractOptions, resolveExtractOptions } from '../options.js';
import { sourceKey } from '../sources/source-reference.js';
import { folderName } from './folder-name.js';

/** Options of {@link extractImages}: those of `extractImage` but the output paths, which the batch decides. */
export interface BatchOptions extends Omit<ExtractOptions, 'output' | 'manifest'> {
  /**
   * Folder that receives one folder per image (see {@link folderName}) with its manifest beside it.
   * @default './distroless-contents'
   */
  readonly outputDir?: string;
  /**
   * How many images are extracted at once.
   * @default 2
   */
  readonly jobs?: number;
  /** Called as each image ends, in the order they end. */
  readonly onImage?: (result: BatchImageResult) => void;
}

/** One image of a batch: done or failed, never thrown. */
export interface BatchImageResult {
  readonly reference: string;
  readonly status: 'done' | 'failed';
  readonly output: string;
  readonly manifest: string;
  readonly image?: ImageInfo;
  readonly counts?: ExtractResult['counts'];
  /** Wall time of this image's extraction, in milliseconds (as ExtractResult's). */
  readonly durationMs: number;
  readonly warnings: readonly string[];
  /** One line, as the CLI would print it. */
  readonly error?: string;
  readonly code?: string;
}

export interface BatchResult {
  readonly outputDir: string;
  /** In the order the references were given; a repeated image appears once per reference, extracted once. */
  readonly images: readonly BatchImageResult[];
  readonly failed: number;
}

/**
 * Extracts many images into one folder, a few at a time. One image failing does not stop the others;
 * the same image named twice (even as `alpine` and `docker.io/library/alpine:latest`) is extracted once.
 * All references are checked before anything starts. An abort stops the batch and throws.
 */
export async function extractImages(
  references: readonly string[],
  options: BatchOptions = {},
): Promise<BatchResult> {
  const { outputDir = './distroless-contents', jobs = 2, onImage, ...extractOptions } = options;
  // Once for the batch: a bad option would otherwise fail every image alone with the same usage error.
  resolveExtractOptions(extractOptions);
  const unique = new Map<string, string>();
  for (const reference of references) {
    const normalized = sourceKey(reference);
    if (!unique.has(normalized)) unique.set(normalized, reference);
  }
  const queue = [...unique.entries()];
  const results = new Map<string, BatchImageResult>();
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [normalized, reference] = next;
      const result = await extractOne(reference, outputDir, extractOptions);
      results.set(normalized, result);
      onImage?.(result);
    }
  };
  // Settled, not all: on an abort every worker must finish its own cleanup before the batch throws.
  const settled = await Promise.allSettled(
    Array.from({ length: Math.max(1, Math.min(jobs, unique.size)) }, worker),
  );
  options.signal?.throwIfAborted();
  for (const outcome of settled) if (outcome.status === 'rejected') throw outcome.reason;
  const images = references.map((reference) => {
    const result = results.get(sourceKey(reference)) as BatchImageResult;
    return { ...result, reference };
  });
  return {
    outputDir: resolve(outputDir),
    images,
    failed: images.filter((image) => image.status === 'failed').length,
  };
}

async function extractOne(
  reference: string,
  outputDir: string,
  options: Omit<ExtractOptions, 'output' | 'manifest'>,
): Promise<BatchImageResult> {
  const name = folderName(reference);
  const output = resolve(join(outputDir, name));
  const manifest = `${output}.json`;
  const started = performance.now();
  const durationMs = () => Math.round(performance.now() - started);
  try {
    const result = await extractImage(reference, { ...options, output, manifest });
    return {
      reference,
      status: 'done',
      output,
      manifest,
      image: result.image,
      counts: result.counts,
      durationMs: durationMs(),
      warnings: result.warnings,
    };
  } catch (error) {
    if (error instanceof InterruptedError) throw error;
    return {
      reference,
      status: 'failed',
      output,
      manifest,
      durationMs: durationMs(),
      warnings: [],
      error: error instanceof Error ? error.message : String(error),
      ...(error instanceof DistrolessContentsError && { code: error.code }),
    };
  }
}
