import { utf8 } from './tar-header.js';
import { UnsupportedLayerError } from './unsupported-layer-error.js';

/**
 * Splits a member name (raw bytes in a latin1 string) into components, as the engine resolves it below the
 * layer's root: a leading `/`, empty and `.` components go. Refuses `..`, which no layer of ours may hold.
 */
export function splitPath(name: string): string[] {
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) {
    throw new UnsupportedLayerError(
      `layer member ${JSON.stringify(utf8(name))} climbs out of the image with ..`,
    );
  }
  return parts;
}
