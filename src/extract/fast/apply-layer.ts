import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import { OutputError } from '../../errors.js';
import { createLayerFilter } from './layer-filter.js';
import { LayerRules, UnsupportedLayerError } from './layer-rules.js';
import type { LayerTree } from './layer-tree.js';

const isRoot = process.getuid?.() === 0;

export interface ApplyLayerOptions {
  /** Position of the layer, lowest first. */
  readonly index: number;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Applies one uncompressed layer tar onto `dir`: every member passes the layer rules (whiteouts held back,
 * nothing written through a symlink), GNU tar writes what passes, then the layer's whiteouts are applied.
 * Returns how many device nodes could not be made (mknod needs root).
 */
export async function applyLayer(
  layer: Readable,
  dir: string,
  tree: LayerTree,
  options: ApplyLayerOptions,
): Promise<number> {
  const rules = new LayerRules(tree, dir, options.index);
  // Only security.capability: the engine's archive, and so the article's dump, carries no other xattr.
  const args = ['-x', '-p', '--numeric-owner', '-C', dir, '-f', '-'];
  if (isRoot) args.push('--same-owner', '--xattrs', '--xattrs-include=security.capability');
  const child = execa('tar', args, {
    stdin: 'pipe',
    stdout: 'ignore',
    stderr: 'pipe',
    reject: false,
    ...(options.signal && { cancelSignal: options.signal }),
  });
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
  const problems = tarProblems(result.stderr, skipped);
  // As non-root, tar exits 2 for the device nodes it may not create; that alone is a warning, not a failure.
  const tarFailed = problems.length > 0 || (result.exitCode !== 0 && skipped === 0);
  const tarSaysWhy = tarFailed && /No space left|Wrote only|Permission denied|Read-only/.test(result.stderr);
  if (streamError && (streamError as NodeJS.ErrnoException).code !== 'EPIPE' && !tarSaysWhy) {
    if (streamError instanceof UnsupportedLayerError) {
      throw new OutputError(
        'EXTRACT_FAILED',
        `--method fast cannot reproduce layer ${options.index + 1}: ${streamError.message}; use --method article.`,
        { cause: streamError },
      );
    }
    const reason = streamError instanceof Error ? streamError.message : String(streamError);
    throw new OutputError(
      'EXTRACT_FAILED',
      `Reading layer ${options.index + 1} of the image failed: ${reason}; check the engine (docker info) and retry.`,
      { cause: streamError },
    );
  }
  if (tarFailed)
    throw tarError(problems[0] || result.stderr.trim() || `tar exited with code ${result.exitCode}`, dir);
  rules.finish();
  return skipped;
}

/** GNU tar's complaints that matter: everything but the mknod refusals expected as non-root. */
function tarProblems(stderr: string, expectedMknodFailures: number): string[] {
  let mknod = 0;
  return stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => {
      if (!line || /^tar: Exiting with failure status due to previous errors/.test(line)) return false;
      if (/: Cannot mknod: Operation not permitted$/.test(line) && mknod < expectedMknodFailures) {
        mknod++;
        return false;
      }
      return true;
    });
}

function tarError(line: string, dir: string): OutputError {
  const detail = line.replace(/^tar: /, '');
  // GNU tar reports a write cut short by a full disk as "Wrote only N of M bytes".
  if (/No space left on device|Wrote only \d+ of \d+ bytes/.test(line)) {
    return new OutputError(
      'DISK_FULL',
      `No space left on device while writing ${dir} (${detail}); free space or choose another --output.`,
    );
  }
  if (/Permission denied|Read-only file system/.test(line)) {
    return new OutputError(
      'OUTPUT_NOT_WRITABLE',
      `Cannot write ${dir} (${detail}); choose an --output you can write.`,
    );
  }
  return new OutputError('EXTRACT_FAILED', `Writing a layer failed: ${detail}`);
}
