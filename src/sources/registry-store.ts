import { createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobStore } from './blob-store.js';
import type { RegistryClient } from './registry-client.js';
import type { RegistryImage } from './registry-image.js';
import { SourceError } from './source-error.js';

/** Layers fetched at once: enough to fill a link, few enough not to be refused by a registry's limits. */
export const CONCURRENT_DOWNLOADS = 3;

/**
 * The layers of a registry image, each checked against its digest as it streams. The layer the applier
 * needs next streams straight from the registry when no download of it has started (the lowest one always
 * does); the layers above it download into `spillDir` meanwhile, lowest first, so that at most
 * {@link CONCURRENT_DOWNLOADS} blobs are in flight and each is written once, or not at all. Abort the
 * client's signal and await `settled` before removing `spillDir`.
 */
export async function registryStore(
  client: RegistryClient,
  image: RegistryImage,
  spillDir: string,
): Promise<{ store: BlobStore; settled: Promise<void> }> {
  await mkdir(spillDir, { recursive: true, mode: 0o700 });
  const what = (position: number) => `layer ${position + 1} of ${image.layers.length}`;
  const positions = new Map<string, number>();
  for (const [position, layer] of image.layers.entries()) {
    if (!positions.has(layer.name)) positions.set(layer.name, position);
  }
  // Blobs in flight, direct streams and spill downloads alike; a direct stream waits first in line.
  let free = CONCURRENT_DOWNLOADS;
  const queue: (() => void)[] = [];
  const acquire = async (first: boolean) => {
    if (free === 0) await new Promise<void>((go) => (first ? queue.unshift(go) : queue.push(go)));
    else free--;
  };
  const release = () => {
    const next = queue.shift();
    if (next) next();
    else free++;
  };
  const direct = async (name: string) => {
    const position = positions.get(name) as number;
    const layer = image.layers[position] as RegistryImage['layers'][number];
    await acquire(true);
    try {
      const stream = await client.openBlob(layer.digest as string, image.sizes[position], what(position));
      stream.once('close', release);
      return stream;
    } catch (error) {
      release();
      throw error;
    }
  };
  const [lowest, ...above] = positions.keys();
  // Asked for before any download starts, so the registry sees the layers asked for lowest first.
  let first: Promise<Readable> | undefined = lowest === undefined ? undefined : direct(lowest);
  await first?.catch(() => {});
  const downloads = new Map<string, Promise<string>>();
  const pending = [...above];
  const worker = async () => {
    for (;;) {
      // The slot first: a name taken off `pending` is downloading, never waiting.
      await acquire(false);
      const name = pending.shift();
      if (name === undefined) {
        release();
        return;
      }
      const position = positions.get(name) as number;
      const file = join(spillDir, `blob-${position}`);
      const download = client
        .download(image.layers[position]?.digest as string, image.sizes[position], file, what(position))
        .then(() => file)
        .finally(release);
      // A failed download is the run's error only once its layer is opened; until then it must not be unhandled.
      download.catch(() => {});
      downloads.set(name, download);
      if (
        !(await download.then(
          () => true,
          () => false,
        ))
      ) {
        // The run fails at this layer: the later ones are not worth fetching.
        pending.splice(0);
      }
    }
  };
  const workers = Array.from({ length: Math.min(CONCURRENT_DOWNLOADS, pending.length) }, worker);
  const store: BlobStore = {
    label: `docker://${client.image}`,
    verifies: true,
    async open(name) {
      if (!positions.has(name)) throw new SourceError(`docker://${client.image} names no layer ${name}`);
      if (name === lowest && first) {
        const stream = first;
        first = undefined;
        return stream;
      }
      const waiting = pending.indexOf(name);
      if (waiting >= 0) {
        pending.splice(waiting, 1);
        return direct(name);
      }
      const download = downloads.get(name);
      // Opened again (a layer listed twice, or read once more to tell why it failed): from the registry.
      if (!download) return direct(name);
      return createReadStream(await download, { highWaterMark: 256 * 1024 });
    },
  };
  // Workers never reject; `settled` tells the caller when no download still writes into spillDir.
  return { store, settled: Promise.all(workers).then(() => {}) };
}
