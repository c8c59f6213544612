import { createHash } from 'node:crypto';
import { sourceKey } from '../sources/source-reference.js';

/**
 * The folder a batch writes an image into, inside `--output-dir`: the normalised reference with every
 * character outside `[A-Za-z0-9._-]` turned into `_`, then `-` and the first 8 hex digits of the SHA-256 of
 * the normalised reference. Readable, and two different images never share a folder because the hash
 * part differs (the batch also checks); `alpine` and `docker.io/library/alpine:latest` share one on purpose.
 *
 * `gcr.io/distroless/static-debian12:nonroot` -> `gcr.io_distroless_static-debian12_nonroot-<hash>`
 */
export function folderName(reference: string): string {
  const normalized = sourceKey(reference);
  const readable = normalized
    .replace(/^docker\.io\/(library\/)?/, '')
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 100);
  const hash = createHash('sha256').update(normalized).digest('hex').slice(0, 8);
  return `${readable}-${hash}`;
}
