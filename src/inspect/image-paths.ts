import type { ManifestEntry } from '../manifest.js';
import { visible } from '../text/visible.js';

/** Symlinks followed before giving up, as the kernel's limit. */
const MAX_LINKS = 40;

/** The folder holding a manifest path; `''` for the image root. */
export function parentPath(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** How many components a manifest path has: `usr` is 1, `usr/share/zoneinfo` is 3. */
export function pathDepth(path: string): number {
  let depth = 1;
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) depth++;
  return depth;
}

/** A manifest path as users read it: rooted, `/` for the root itself. */
export function displayPath(path: string): string {
  return `/${path}`;
}

/** {@link displayPath} as a terminal may show it: quoted when it holds a character a terminal would act on. */
export function shownPath(path: string): string {
  return visible(displayPath(path));
}

/**
 * Follows symlinks inside the image (never the host's): absolute targets start at the image root and `..`
 * stops there. Returns the entry a path finally names, or undefined when it is missing, dangling or loops.
 */
export function resolveInImage(
  index: ReadonlyMap<string, ManifestEntry>,
  path: string,
): ManifestEntry | undefined {
  let pending = split(path);
  let resolved: string[] = [];
  let links = 0;
  let entry: ManifestEntry | undefined;
  while (pending.length > 0) {
    const part = pending[0] as string;
    pending = pending.slice(1);
    if (part === '..') {
      resolved.pop();
      entry = undefined;
      continue;
    }
    resolved.push(part);
    entry = index.get(resolved.join('/'));
    if (entry === undefined) return undefined;
    if (entry.type === 'symlink') {
      if (++links > MAX_LINKS) return undefined;
      const target = entry.target ?? '';
      resolved.pop();
      if (target.startsWith('/')) resolved = [];
      pending = [...split(target), ...pending];
      entry = undefined;
    }
  }
  return entry;
}

function split(path: string): string[] {
  return path.split('/').filter((part) => part !== '' && part !== '.');
}
