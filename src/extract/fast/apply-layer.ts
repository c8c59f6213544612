import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DistrolessContentsError, OutputError } from '../../errors.js';
import { gnuTarFailure, isOutputFault, spawnGnuTarExtract, xattrRefusals } from '../gnu-tar.js';
import type { PathSelection } from '../path-selection.js';
import { createLayerFilter } from './layer-filter.js';
import { LayerRules } from './layer-rules.js';
import type { LayerTree } from './layer-tree.js';
import { UnsupportedLayerError } from './unsupported-layer-error.js';
import { MissingZstdError } from './zstd-stream.js';

const isRoot = process.getuid?.() === 0;

export interface ApplyLayerOptions {
  /** Position of the layer, lowest first. */
  readonly index: number;
  /** `dir` by its open descriptor (open-folder.ts), for our own changes below it; default `dir`. */
  readonly root?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Where GNU tar's words go for each extended attribute the kernel refused (a warning, not a failure). */
  readonly xattrRefusals?: string[];
  /** `--path`: only these subtrees and their parents are written. */
  readonly selection?: PathSelection | undefined;
}

/**
 * Applies one uncompressed layer tar onto `dir`: every member passes the layer rules (whiteouts held back,
 * nothing written through a symlink), GNU tar writes what passes (re-encoded by the filter: it reads no byte
 * of the layer's own headers), then the layer's whiteouts are applied. Returns how many device nodes could
 * not be made (mknod needs root).
 */
export async function applyLayer(
  layer: Readable,
  dir: string,
  tree: LayerTree,
  options: ApplyLayerOptions,
): Promise<number> {
  const rules = new LayerRules(tree, options.root ?? dir, options.index, options.selection);
  const child = spawnGnuTarExtract({ dir, signal: options.signal });
  let streamError: unknown;
  try {
    await pipeline(
      layer,
      createLayerFilter(rules.member),
      child.stdin as NodeJS.WritableStream,
      ...(options.signal ? [{ signal: options.signal }] : []),
    );
  } catch (error) {
    streamError = error;
  }
  const result = await child;
  options.signal?.throwIfAborted();
  const skipped = isRoot ? 0 : rules.devices;
  const failure = gnuTarFailure(result, { expectedMknodFailures: skipped, dir, writing: 'a layer' });
  if (streamError && (streamError as NodeJS.ErrnoException).code !== 'EPIPE' && !isOutputFault(failure)) {
    if (streamError instanceof DistrolessContentsError) throw streamError;
    if (streamError instanceof UnsupportedLayerError) {
      throw new OutputError(
        'EXTRACT_FAILED',
        `--method fast cannot reproduce layer ${options.index + 1}: ${streamError.message}; use --method article.`,
        { cause: streamError },
      );
    }
    if (streamError instanceof MissingZstdError) {
      throw new OutputError('EXTRACT_FAILED', streamError.message, { cause: streamError });
    }
    const reason = streamError instanceof Error ? streamError.message : String(streamError);
    throw new OutputError(
      'EXTRACT_FAILED',
      `Reading layer ${options.index + 1} of the image failed: ${reason}; check the engine (docker info) and retry.`,
      { cause: streamError },
    );
  }
  if (failure) throw failure;
  options.xattrRefusals?.push(...xattrRefusals(result.stderr));
  await rules.finish();
  return skipped;
}
