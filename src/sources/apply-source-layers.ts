import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DistrolessContentsError } from '../errors.js';
import { countProgress } from '../extract/count-progress.js';
import { applyLayer } from '../extract/fast/apply-layer.js';
import type { LayerTree } from '../extract/fast/layer-tree.js';
import type { PathSelection } from '../extract/path-selection.js';
import type { BlobStore } from './blob-store.js';
import { decompressLayer, sniffCompression } from './decompress-layer.js';
import { SourceError } from './source-error.js';
import type { SourceLayer } from './source-image.js';
import { DigestMismatchError, verifyDigest } from './verify-digest.js';

export interface ApplySourceLayerOptions {
  readonly index: number;
  readonly count: number;
  readonly signal?: AbortSignal | undefined;
  /** `--path`: only these subtrees and the folders above them. */
  readonly selection?: PathSelection | undefined;
  /** Bytes of the layer's stored blob read so far, at most about ten times a second. */
  readonly onBytes?: ((bytes: number) => void) | undefined;
}

/**
 * Streams one layer of a file source into the fast method's applier, its stored bytes checked against the
 * manifest's digest and its tar against the config's diff ID as they pass; the layer fails (and the run
 * with it, before anything is committed) on the first mismatch. Returns how many device nodes were skipped.
 */
export async function applySourceLayer(
  store: BlobStore,
  layer: SourceLayer,
  dir: string,
  tree: LayerTree,
  options: ApplySourceLayerOptions,
): Promise<number> {
  const what = `layer ${options.index + 1} of ${options.count} (${layer.name} in ${store.label})`;
  const raw = await openLayer(store, layer, what);
  const compression = layer.compression ?? (await sniffCompression(await store.open(layer.name)));
  const stored =
    layer.digest && !store.verifies
      ? verifyDigest(layer.digest, what)
      : new PassThrough({ highWaterMark: 256 * 1024 });
  const storedDone = pipeline(raw, stored);
  const counted =
    options.onBytes &&
    countProgress(
      raw,
      () => 0,
      (bytes) => options.onBytes?.(bytes),
    );
  const tarBytes = verifyDigest(layer.diffId, `the uncompressed tar of ${what}`);
  const tarDone = pipeline(decompressLayer(stored, compression), tarBytes);
  const chain = Promise.allSettled([storedDone, tarDone]);
  let skipped: number;
  try {
    skipped = await applyLayer(tarBytes, dir, tree, {
      index: options.index,
      signal: options.signal,
      selection: options.selection,
    });
    // The applier may stop at the tar's end blocks: the rest must still pass the digests.
    tarBytes.resume();
  } catch (error) {
    raw.destroy();
    tarBytes.destroy();
    options.signal?.throwIfAborted();
    throw (await chainFailure(chain, store, layer, what, compression === 'none')) ?? error;
  }
  const failure = await chainFailure(chain, store, layer, what, compression === 'none');
  if (failure) throw failure;
  counted?.();
  return skipped;
}

/** A foreign layer's blob is not in the layout by design: say so, rather than that a blob is missing. */
async function openLayer(store: BlobStore, layer: SourceLayer, what: string): Promise<Readable> {
  try {
    return await store.open(layer.name);
  } catch (error) {
    if (!layer.foreign) throw error;
    throw new SourceError(
      `${what} is a foreign (non-distributable) layer the source does not hold${layer.foreign.length > 0 ? `; it lives at ${layer.foreign.join(', ')}` : ''}; copy the image with its foreign layers (skopeo copy --preserve-digests) and dump that`,
      { cause: error },
    );
  }
}

/**
 * What made the stream fail, in the user's terms: a digest mismatch first. A corrupt compressed blob often
 * fails its decompressor before its digest is complete, so then the whole blob is hashed again to tell.
 */
async function chainFailure(
  chain: Promise<PromiseSettledResult<void>[]>,
  store: BlobStore,
  layer: SourceLayer,
  what: string,
  plain: boolean,
): Promise<Error | undefined> {
  const reasons = (await chain).flatMap((result) =>
    result.status === 'rejected' ? [result.reason as Error] : [],
  );
  const mismatch = reasons.find((reason) => reason instanceof DigestMismatchError);
  if (mismatch) return mismatch;
  const failure = reasons.find(
    (reason) => (reason as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE',
  );
  if (!failure) return undefined;
  // The store's own stream failing (cut too often, too long) says so itself: no second download to tell.
  if (store.verifies && layer.digest && !(failure instanceof SourceError)) {
    const mismatch = await drainedMismatch(store, layer.name);
    if (mismatch) return mismatch;
  }
  const digest = store.verifies ? undefined : (layer.digest ?? (plain ? layer.diffId : undefined));
  if (digest) {
    const actual = await hashBlob(store, layer.name, digest.split(':')[0] as string).catch(() => undefined);
    if (actual !== undefined && `${digest.split(':')[0]}:${actual}` !== digest) {
      return new DigestMismatchError(
        `${what} is corrupt: its digest is ${actual}, not ${digest.split(':')[1]}`,
      );
    }
  }
  // Ours already (a SourceError, or a --path refusal from the layer rules): in its own words.
  if (failure instanceof DistrolessContentsError) return failure;
  return new SourceError(`${what} cannot be read: ${failure.message}`, { cause: failure });
}

/** Reads the blob once more through a store that checks digests: its mismatch, if that is what it is. */
async function drainedMismatch(store: BlobStore, name: string): Promise<DigestMismatchError | undefined> {
  try {
    for await (const _ of await store.open(name));
  } catch (error) {
    if (error instanceof DigestMismatchError) return error;
  }
  return undefined;
}

async function hashBlob(store: BlobStore, name: string, algorithm: string): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of await store.open(name)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
