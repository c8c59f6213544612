import { DistrolessContentsError, UsageError } from '../errors.js';
import type { ManifestEntry } from '../manifest.js';
import type { LayerTree } from './fast/layer-tree.js';
import { canonicaliseHardlinks } from './hardlink-groups.js';

/**
 * The `--path` values, checked and folded: absolute, normalised (no `.` or empty components, no trailing
 * `/`), sorted, no duplicates, none below another. `..` is refused rather than resolved: resolved by text it
 * could name another path than the image's own symlinks would. `/` alone selects everything (an empty list).
 */
export function normalisePaths(values: readonly unknown[]): string[] {
  const paths: string[] = [];
  let everything = false;
  for (const value of values) {
    if (typeof value !== 'string' || !value.startsWith('/') || value.includes('\0')) {
      throw new UsageError(
        `Invalid --path ${JSON.stringify(value)} (option paths): expected an absolute path in the image, e.g. /etc.`,
      );
    }
    const parts = value.split('/').filter((part) => part !== '' && part !== '.');
    if (parts.includes('..')) {
      throw new UsageError(
        `Invalid --path ${JSON.stringify(value)} (option paths): ".." is not allowed; name the folder itself, e.g. /etc.`,
      );
    }
    if (parts.length === 0) everything = true;
    else paths.push(`/${parts.join('/')}`);
  }
  // Every value is checked first: `/` among them does not let a bad one through.
  if (everything) return [];
  const sorted = [...new Set(paths)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return sorted.filter((path) => !sorted.some((other) => other !== path && path.startsWith(`${other}/`)));
}

/** Where a path stands to a selection; `below` a selected path only when the selection holds its roots alone. */
export type Placement = 'inside' | 'parent' | 'below' | 'outside';

/** Which names of the image a dump holds: the selected subtrees and the folders above them. */
export class PathSelection {
  /** Each selected path as its components, relative to the image root. */
  readonly selected: readonly (readonly string[])[];
  /**
   * Roots only: hardlinks read past below one selected path whose file is below another, by path (relative),
   * with the layer that made each: COPY steps, one per path, cannot keep them, so the article method links
   * them again afterwards. A later layer that replaces or hides either name ends the link (`forgetLinks`).
   */
  private readonly noted = new Map<string, { readonly target: string; readonly layer: number }>();

  /**
   * @param rootsOnly hold each selected path and the folders above it, not what is below it: the article
   *   method reads just these from the layers, to give them the image's metadata where COPY does not.
   */
  constructor(
    readonly paths: readonly string[],
    readonly rootsOnly = false,
  ) {
    this.selected = paths.map((path) => path.split('/').slice(1));
  }

  /** The same paths, roots only (see the constructor). */
  roots(): PathSelection {
    return new PathSelection(this.paths, true);
  }

  /** The links of the final image noted so far (see `noted`). */
  get links(): { readonly path: string; readonly target: string }[] {
    return [...this.noted].map(([path, { target }]) => ({ path, target }));
  }

  /** Roots only: notes a hardlink member below a root (see `noted`) when its file is below another root. */
  noteLink(parts: readonly string[], targetParts: readonly string[], layer: number): void {
    const root = this.rootOf(parts);
    const targetRoot = this.rootOf(targetParts);
    if (root && targetRoot && root !== targetRoot) {
      this.noted.set(parts.join('/'), { target: targetParts.join('/'), layer });
    }
  }

  /**
   * Roots only: drops the noted links that a member of `layer` about `parts` ends, so that only links the
   * final image holds are made again. `name`: a member written at the name replaces it (a link at its path,
   * or the file it links to). `tree`: a non-folder written there, or a whiteout, ends the name and all
   * below it. `below`: an opaque folder ends what is below it. Whiteouts end only lower layers' names.
   */
  forgetLinks(parts: readonly string[], layer: number, how: 'name' | 'tree' | 'below', hides: boolean): void {
    if (this.noted.size === 0) return;
    const name = parts.join('/');
    const ends = (path: string) =>
      (how !== 'below' && path === name) ||
      (how !== 'name' && path.startsWith(name === '' ? '' : `${name}/`));
    for (const [path, note] of this.noted) {
      if (hides && note.layer >= layer) continue;
      if (ends(path) || ends(note.target)) this.noted.delete(path);
    }
  }

  /** The selected path at or above the name with these components, as components. */
  rootOf(parts: readonly string[]): readonly string[] | undefined {
    return this.selected.find((selected) => selected.every((part, i) => parts[i] === part));
  }

  /** Where the name with these components stands: in a selected subtree, a folder above one, or neither. */
  place(parts: readonly string[]): Placement {
    let parent = false;
    for (const selected of this.selected) {
      const shared = Math.min(parts.length, selected.length);
      let same = true;
      for (let i = 0; i < shared && same; i++) same = parts[i] === selected[i];
      if (!same) continue;
      if (parts.length > selected.length && this.rootsOnly) return 'below';
      if (parts.length >= selected.length) return 'inside';
      parent = true;
    }
    return parent ? 'parent' : 'outside';
  }

  /** True when the name is in the dump: inside a selected subtree or a folder above one. */
  covers(parts: readonly string[]): boolean {
    const place = this.place(parts);
    return place === 'inside' || place === 'parent';
  }

  /**
   * The entries of a whole dump that this selection keeps, each hardlink group made canonical again among
   * the names kept (a kept name whose group's file is outside becomes the file): what `--path` writes.
   */
  filter(entries: readonly ManifestEntry[]): ManifestEntry[] {
    const kept = entries.filter((entry) => this.covers(entry.path.split('/')));
    const byPath = new Map(entries.map((entry) => [entry.path, entry]));
    const keptPaths = new Set(kept.map((entry) => entry.path));
    // A group whose file is outside: its first kept name takes the file's entry, the others link to it.
    const heirs = new Map<string, string>();
    for (const entry of kept) {
      const target = entry.target ?? '';
      if (entry.type !== 'hardlink' || keptPaths.has(target)) continue;
      const heir = heirs.get(target);
      if (heir === undefined || entry.path < heir) heirs.set(target, entry.path);
    }
    const relinked = kept.map((entry) => {
      const target = entry.target ?? '';
      const heir = entry.type === 'hardlink' ? heirs.get(target) : undefined;
      if (heir === undefined) return entry;
      const file = byPath.get(target) as ManifestEntry;
      return heir === entry.path ? { ...file, path: entry.path } : { ...entry, target: heir };
    });
    return canonicaliseHardlinks(relinked);
  }
}

/** A selection of everything is no selection: undefined for an empty list. */
export function pathSelection(paths: readonly string[]): PathSelection | undefined {
  return paths.length === 0 ? undefined : new PathSelection(paths);
}

/** What the image holds at a name, for {@link checkSelected}: its kind and, for a symlink, its target. */
export type NameKind = { readonly type: ManifestEntry['type']; readonly target?: string | undefined };

/**
 * Every selected path must name an entry of the image whose parents are all folders. A symlink on the way
 * is refused, naming the path to give instead: a dump holds entries at their own paths, as the full dump
 * does, never a name the image does not have. A symlink as the last component is dumped as the symlink, as
 * `docker cp` does without `--follow-link`.
 */
export function checkSelected(
  selection: PathSelection,
  lookup: (parts: readonly string[]) => NameKind | undefined,
): void {
  for (const [index, parts] of selection.selected.entries()) {
    const path = selection.paths[index] as string;
    for (let depth = 1; depth <= parts.length; depth++) {
      const found = lookup(parts.slice(0, depth));
      const at = `/${parts.slice(0, depth).join('/')}`;
      if (!found) {
        throw new SelectionError(
          `--path ${path}: the image has no ${at}; check the name (report IMAGE --json lists every path).`,
        );
      }
      if (depth === parts.length || found.type === 'dir') continue;
      if (found.type === 'symlink') {
        throw new SelectionError(
          `--path ${path}: ${at} is a symlink to ${found.target ?? '?'} in the image; give the path without symlinks (a dump holds names where the image has them).`,
        );
      }
      throw new SelectionError(`--path ${path}: ${at} is a ${found.type} in the image, not a folder.`);
    }
  }
}

/** A selected path the image lacks or reaches through a non-folder: the run fails, nothing committed. */
export class SelectionError extends DistrolessContentsError {
  override name = 'SelectionError';

  constructor(message: string) {
    super('EXTRACT_FAILED', message);
  }
}

/**
 * {@link checkSelected} on the fast method's tree, once every layer is applied (before its entries are taken);
 * then a selected hardlink whose file is outside, if the final image holds it, is refused.
 */
export function checkSelectedInTree(selection: PathSelection | undefined, tree: LayerTree): void {
  if (!selection) return;
  checkSelected(selection, (parts) => {
    const node = tree.node(parts);
    if (!node) return undefined;
    return node.kind === 'dir' ? { type: 'dir' } : { type: node.inode.type, target: node.inode.target };
  });
  for (const { parts, inode } of tree.linksOutside) {
    const node = tree.node(parts);
    if (node?.kind !== 'leaf' || node.inode !== inode) continue;
    const file = `/${inode.bodyOutside}`;
    throw new SelectionError(
      `--path: /${parts.join('/')} is a hardlink of ${file}, which is outside the selected paths; add --path ${file} (--method fast never reads a body it does not write).`,
    );
  }
}
