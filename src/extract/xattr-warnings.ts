import type { ManifestEntry } from '../manifest.js';
import { restorableXattr } from './gnu-tar.js';

const SHOWN = 20;

/**
 * The warnings for extended attributes the image has and the dump lacks: those this process may not set
 * (security.* and trusted.* need root), and those the kernel refused GNU tar (`refused`, its words). The
 * manifest lists every one either way.
 */
export function xattrWarnings(entries: readonly ManifestEntry[], refused: readonly string[]): string[] {
  const warnings: string[] = [];
  const skipped: string[] = [];
  for (const entry of entries) {
    for (const name of Object.keys(entry.xattrs ?? {})) {
      if (!restorableXattr(name)) skipped.push(`${JSON.stringify(entry.path)} (${JSON.stringify(name)})`);
    }
  }
  if (skipped.length > 0) {
    warnings.push(
      `Did not set ${count(skipped.length)} outside user.* (setting security.* and trusted.* needs root): ${list(skipped)}; the manifest lists them.`,
    );
  }
  if (refused.length > 0) {
    warnings.push(`Could not set ${count(refused.length)}: ${list(refused)}; the manifest lists them.`);
  }
  return warnings;
}

function count(n: number): string {
  return `${n} extended attribute${n === 1 ? '' : 's'}`;
}

function list(items: readonly string[]): string {
  const shown = items.slice(0, SHOWN).join(', ');
  return items.length > SHOWN ? `${shown} and ${items.length - SHOWN} more` : shown;
}
