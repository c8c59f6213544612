import { join } from 'node:path';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { extractImage } from '../../src/extract/extract-image.js';
import type { Manifest } from '../../src/manifest.js';

/** Dumps a test image the way users do: `extract IMAGE -o DIR --manifest DIR.json`. */
export async function dumpImage(
  image: string,
  work: string,
  name: string,
): Promise<{ folder: string; manifestPath: string; manifest: Manifest }> {
  const folder = join(work, name);
  const manifestPath = `${folder}.json`;
  const { manifest } = await extractImage(image, {
    output: folder,
    manifest: manifestPath,
    base: TEST_IMAGES.shell,
    pull: 'never',
  });
  return { folder, manifestPath, manifest };
}
