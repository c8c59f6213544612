import { createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobStore } from './blob-store.js';
import type { RegistryClient } from './registry-client.js';
import type { RegistryImage } from './registry-image.js';
import { SourceError } from './source-error.js';

/** Layers fetched at once: enough to fill a link, few enough not to be refused by a registry's limits. */
export const CONCURRENT_DOWNLOADS = 3;

/**
 * The layers of a registry image, downloaded into `spillDir` up to {@link CONCURRENT_DOWNLOADS} at a time,
 * lowest first, each checked against its digest as it streams. `open` waits for its layer's download, so
 * the layers are applied in order while the next ones are still arriving; each blob is written once. Abort
 * the client's signal and await `settled` before removing `spillDir`.
 */
export async function registryStore(
  client: RegistryClient,
  image: RegistryImage,
  spillDir: string,
): Promise<{ store: BlobStore; settled: Promise<void> }> {
  await mkdir(spillDir, { recursive: true, mode: 0o700 });
  const downloads = new Map<string, Promise<string>>();
  const queue = image.layers.map((layer, position) => ({ layer, position }));
  const waiting = new Map<string, { resolve: (file: string) => void; reject: (error: unknown) => void }>();
  for (const { layer } of queue) {
    if (downloads.has(layer.name)) continue;
    const download = new Promise<string>((resolve, reject) => waiting.set(layer.name, { resolve, reject }));
    // A failed download is the run's error only once its layer is opened; until then it must not be unhandled.
    download.catch(() => {});
    downloads.set(layer.name, download);
  }
  const pending = [...waiting.keys()];
  const worker = async () => {
    for (let name = pending.shift(); name !== undefined; name = pending.shift()) {
      const { layer, position } = queue.find((item) => item.layer.name === name) as (typeof queue)[number];
      const settle = waiting.get(name) as {
        resolve: (file: string) => void;
        reject: (error: unknown) => void;
      };
      const file = join(spillDir, `blob-${position}`);
      try {
        await client.download(
          layer.digest as string,
          image.sizes[position],
          file,
          `layer ${position + 1} of ${image.layers.length}`,
        );
        settle.resolve(file);
      } catch (error) {
        settle.reject(error);
        // The run fails at this layer: the later ones are not worth fetching.
        for (const rest of pending.splice(0)) waiting.get(rest)?.reject(error);
      }
    }
  };
  const workers = Array.from({ length: Math.min(CONCURRENT_DOWNLOADS, pending.length) }, worker);
  const store: BlobStore = {
    label: `docker://${client.image}`,
    async open(name) {
      const download = downloads.get(name);
      if (!download) throw new SourceError(`docker://${client.image} names no layer ${name}`);
      return createReadStream(await download, { highWaterMark: 256 * 1024 });
    },
  };
  // Workers never reject; `settled` tells the caller when no download still writes into spillDir.
  return { store, settled: Promise.all(workers).then(() => {}) };
}
