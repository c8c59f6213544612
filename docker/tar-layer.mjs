import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

// tar-stream takes mode 0 for "unset" and writes 0644; the file-type bits keep a 000 mode set and are
// masked off when the header is encoded.
const TYPE_BITS = {
  file: 0o100000,
  link: 0o100000,
  directory: 0o040000,
  symlink: 0o120000,
  fifo: 0o010000,
  'character-device': 0o020000,
  'block-device': 0o060000,
};

/**
 * Writes a layer tar from entry specs: tar-stream headers whose `mtime` is in seconds, plus `content`
 * (a Buffer) for regular files. Resolves to the layer's diff_id, the sha256 of the uncompressed tar.
 */
export async function writeLayerTar(entries, file) {
  const pack = tar.pack();
  const hash = createHash('sha256');
  const written = pipeline(
    pack,
    async function* (source) {
      for await (const chunk of source) {
        hash.update(chunk);
        yield chunk;
      }
    },
    createWriteStream(file),
  );
  try {
    for (const { content, mtime, ...header } of entries) {
      await new Promise((resolve, reject) => {
        const done = (error) => (error ? reject(error) : resolve());
        const full = { ...header, mode: header.mode | TYPE_BITS[header.type], mtime: new Date(mtime * 1000) };
        if (content === undefined) pack.entry(full, done);
        else pack.entry(full, content, done);
      });
    }
    pack.finalize();
  } catch (error) {
    pack.destroy(error);
    await written.catch(() => {});
    throw error;
  }
  await written;
  return `sha256:${hash.digest('hex')}`;
}
