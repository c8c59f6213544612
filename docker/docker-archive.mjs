import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

/**
 * Writes a docker-archive (what `docker save` wrote before engine 25 and what `docker load` reads):
 * one `<diff hex>/layer.tar` per layer, the config JSON named by its sha256, and manifest.json.
 * `layers` are `{ file, diffId }` lowest first; the config gets its rootfs.diff_ids from them.
 */
export async function writeDockerArchive({ file, tag, config, layers }) {
  const fullConfig = { ...config, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } };
  const configJson = Buffer.from(JSON.stringify(fullConfig));
  const configName = `${createHash('sha256').update(configJson).digest('hex')}.json`;
  const layerPath = (layer) => `${layer.diffId.replace(/^sha256:/, '')}/layer.tar`;
  const manifest = [{ Config: configName, RepoTags: [tag], Layers: layers.map(layerPath) }];

  const pack = tar.pack();
  const written = pipeline(pack, createWriteStream(file));
  try {
    const seen = new Set();
    for (const layer of layers) {
      if (seen.has(layer.diffId)) continue;
      seen.add(layer.diffId);
      const { size } = await stat(layer.file);
      await pipeline(createReadStream(layer.file), pack.entry({ name: layerPath(layer), size }));
    }
    await addBuffer(pack, configName, configJson);
    await addBuffer(pack, 'manifest.json', Buffer.from(JSON.stringify(manifest)));
    pack.finalize();
  } catch (error) {
    pack.destroy(error);
    await written.catch(() => {});
    throw error;
  }
  await written;
}

function addBuffer(pack, name, content) {
  return new Promise((resolve, reject) => {
    pack.entry({ name, mode: 0o644 }, content, (error) => (error ? reject(error) : resolve()));
  });
}
