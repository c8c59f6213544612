import { UnsupportedLayerError } from '../extract/fast/unsupported-layer-error.js';

/**
 * Splits a member name (a byte string) into components, as the engine resolves it below the layer's root: a
 * leading `/`, empty and `.` components go. Refuses `..`, which no layer of ours may hold.
 */
export function splitPath(name: string): string[] {
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) {
    throw new UnsupportedLayerError(`layer member ${JSON.stringify(name)} climbs out of the image with ..`);
  }
  return parts;
}
