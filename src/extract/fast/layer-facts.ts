import type { LayerChange, LayerEfficiency, RemovedPath } from '../../manifest.js';
import type { TarHeader } from '../../tar/tar-member.js';
import type { DirNode, Inode, LayerTree, TreeNode } from './layer-tree.js';
import { whiteoutOf } from './whiteout.js';

/** In `touched`: a path the layer writes below but does not list. */
const NOT_MEMBER = -1;

/** What one layer did, as its own members say it (layer-history.ts puts it beside the config's history). */
export interface LayerFact {
  /** Bytes of the layer's regular-file members; a hardlink member adds none. */
  readonly size: number;
  readonly added: LayerChange;
  readonly changed: LayerChange;
  readonly deleted: LayerChange;
  /** Bytes of its regular-file members whose file is not in the image: overwritten or removed later. */
  readonly wasted: number;
  readonly removed: readonly RemovedPath[];
}

interface Counting {
  size: number;
  added: { files: number; bytes: number };
  changed: { files: number; bytes: number };
  deleted: { files: number; bytes: number };
  removed: RemovedPath[];
  /**
   * Paths this layer has already counted (a folder listed after a file below it, a name listed twice): dive's
   * view of the layer's own tree, each member's size, or NOT_MEMBER for a folder the layer only writes below.
   */
  touched: PathMap<number>;
  /**
   * Where each file member was placed, as parent folder and name, flat: a file's name in the tree at the
   * layer's end tells whether its inode survived the layer (a folder that holds a member is never replaced
   * within its layer). Two references a file, where its path's components were a few strings and an array.
   */
  fileMembers: (DirNode | string)[];
  /** Every folder above a member. */
  above: PathMap<true>;
  /** Whited-out paths, and whether a folder was there. */
  whiteouts: PathMap<boolean>;
}

interface PathSizes {
  cumulative: number;
  minimum: number;
  count: number;
}

/**
 * Per-layer facts, gathered while LayerRules applies the layers: LayerRules tells it of each member before
 * applying it, of each lower name it removes, and of each layer's end; the tree itself is only read.
 */
export class LayerFacts {
  private readonly done: (Omit<LayerFact, 'wasted'> & { inodes: Set<Inode> })[] = [];
  private current: Counting | undefined;
  private currentLayer = -1;
  /** Per path, its sizes; a path one layer sized holds that size alone (no object for most paths). */
  private readonly paths = new PathMap<PathSizes | number>();

  /** A member of `layer`, before the rules apply it to `tree`. */
  member(header: TarHeader, parts: readonly string[], tree: LayerTree, layer: number): void {
    const layerFacts = this.layerOf(layer);
    const name = parts[parts.length - 1] as string;
    const parent = parts.slice(0, -1).join('/');
    const whiteout = whiteoutOf(name);
    if (whiteout) {
      // dive drops opaque markers (and any `.wh..wh.` name) from its trees; a whiteout is a leaf at the
      // name it hides.
      if (whiteout.kind !== 'hides') return;
      const hidden = [...parts.slice(0, -1), whiteout.name];
      layerFacts.whiteouts.set(parent, whiteout.name, sizedAsFolder(tree.node(hidden)));
      this.markAbove(layerFacts, parts);
      return;
    }
    this.markAbove(layerFacts, parts);
    const size = header.kind === 'file' ? header.size : 0;
    if (header.kind === 'file') layerFacts.size += size;
    const { touched } = layerFacts;
    // A lower non-folder where this layer needs a parent folder goes (layer-rules.ts replacesLowerNonDir).
    if (parts.length > 1 && !touched.has(parts.slice(0, -2).join('/'), parts[parts.length - 2] as string)) {
      for (let i = 1; i < parts.length; i++) {
        const above = parts.slice(0, i);
        const aboveParent = parts.slice(0, i - 1).join('/');
        const aboveName = parts[i - 1] as string;
        if (touched.has(aboveParent, aboveName)) continue;
        touched.set(aboveParent, aboveName, NOT_MEMBER);
        const lower = tree.node(above);
        if (lower?.kind === 'leaf') this.replaced(layerFacts, lower, above.join('/'));
      }
    }
    const counted = touched.has(parent, name);
    touched.set(parent, name, size);
    if (counted) return;
    const lower = tree.node(parts);
    if (header.kind === 'dir') {
      if (lower?.kind === 'leaf') this.replaced(layerFacts, lower, parts.join('/'));
      return;
    }
    const change = lower?.kind === 'leaf' ? layerFacts.changed : layerFacts.added;
    change.files++;
    change.bytes += size;
  }

  /** LayerRules placed a file member of `layer` as `name` in `parent`. */
  placedFile(parent: DirNode, name: string, layer: number): void {
    this.layerOf(layer).fileMembers.push(parent, name);
  }

  /** LayerRules removes a lower layer's `node` at `parts`, with all below it. */
  removed(node: TreeNode, parts: readonly string[], layer: number): void {
    const layerFacts = this.layerOf(layer);
    const inodes = new Set<Inode>();
    let files = 0;
    const walk = (at: TreeNode) => {
      if (at.kind === 'dir') {
        for (const child of at.children.values()) walk(child);
        return;
      }
      files++;
      if (at.inode.type === 'file') inodes.add(at.inode);
    };
    walk(node);
    let bytes = 0;
    for (const inode of inodes) bytes += inode.size;
    layerFacts.removed.push({ path: parts.join('/'), files, bytes });
    layerFacts.deleted.files += files;
    layerFacts.deleted.bytes += bytes;
  }

  /** The layer is applied, its whiteouts too. */
  endLayer(layer: number): void {
    const layerFacts = this.layerOf(layer);
    const inodes = new Set<Inode>();
    const { fileMembers } = layerFacts;
    for (let i = 0; i < fileMembers.length; i += 2) {
      const node = (fileMembers[i] as DirNode).children.get(fileMembers[i + 1] as string);
      if (node?.kind === 'leaf' && node.layer === layer && node.inode.type === 'file') inodes.add(node.inode);
    }
    for (const [parent, name, size] of layerFacts.touched.entries()) {
      if (size !== NOT_MEMBER && !layerFacts.above.has(parent, name)) this.sized(parent, name, size);
    }
    for (const [parent, name, wasFolder] of layerFacts.whiteouts.entries()) {
      const bytes = wasFolder
        ? removedBytesBelow(layerFacts.removed, parent ? `${parent}/${name}` : name)
        : 0;
      this.sized(parent, name, bytes);
    }
    const { size, added, changed, deleted, removed } = layerFacts;
    this.done[layer] = { size, added, changed, deleted, removed, inodes };
    this.current = undefined;
  }

  /** After the last layer, before the tree becomes entries: each layer's facts, and dive's efficiency (once). */
  finish(tree: LayerTree, layers: number): { facts: LayerFact[]; efficiency: LayerEfficiency } {
    const kept: number[] = new Array(layers).fill(0);
    // A leaf keeps the layer that wrote it, and only a linked inode has more than one name: the others are
    // found at their own layer's leaf, with no set of every inode (as large as the tree's names).
    const linkedSeen = new Set<Inode>();
    const walk = (node: TreeNode) => {
      if (node.kind === 'dir') {
        for (const child of node.children.values()) walk(child);
        return;
      }
      const { inode } = node;
      if (!tree.linked.has(inode)) {
        if (this.done[node.layer]?.inodes.has(inode)) (kept[node.layer] as number) += inode.size;
        return;
      }
      if (linkedSeen.has(inode)) return;
      linkedSeen.add(inode);
      this.done.forEach((layer, index) => {
        if (layer?.inodes.has(inode)) (kept[index] as number) += inode.size;
      });
    };
    walk(tree.root);
    const facts: LayerFact[] = [];
    for (let index = 0; index < layers; index++) {
      const layer = this.done[index] ?? emptyCounting();
      const { inodes: _inodes, ...fact } = layer;
      facts.push({ ...fact, wasted: layer.size - (kept[index] as number) });
    }
    const efficiency = efficiencyOf(this.paths.values());
    // The tree becomes entries next and is emptied as it goes: let its inodes and paths go with it.
    this.done.length = 0;
    this.paths.clear();
    return { facts, efficiency };
  }

  private layerOf(layer: number): Counting {
    if (this.current === undefined || this.currentLayer !== layer) {
      this.current = newCounting();
      this.currentLayer = layer;
    }
    return this.current;
  }

  /** A lower non-folder that this layer's folder (listed, or made as a parent) replaces. */
  private replaced(layerFacts: Counting, lower: TreeNode & { kind: 'leaf' }, path: string): void {
    const bytes = lower.inode.type === 'file' ? lower.inode.size : 0;
    layerFacts.removed.push({ path, files: 1, bytes });
    layerFacts.deleted.files++;
    layerFacts.deleted.bytes += bytes;
  }

  private markAbove(layerFacts: Counting, parts: readonly string[]): void {
    for (let i = parts.length - 1; i > 0; i--) {
      const parent = parts.slice(0, i - 1).join('/');
      const name = parts[i - 1] as string;
      if (layerFacts.above.has(parent, name)) return;
      layerFacts.above.set(parent, name, true);
    }
  }

  private sized(parent: string, name: string, size: number): void {
    const sizes = this.paths.get(parent, name);
    if (sizes === undefined) {
      this.paths.set(parent, name, size);
      return;
    }
    if (typeof sizes === 'number') {
      this.paths.set(parent, name, { cumulative: sizes + size, minimum: Math.min(sizes, size), count: 2 });
      return;
    }
    sizes.cumulative += size;
    sizes.minimum = Math.min(sizes.minimum, size);
    sizes.count++;
  }
}

/**
 * dive's score (filetree.Efficiency): every layer's leaves (members with no member below them in the same
 * layer; a whiteout at the name it hides, sized as the files of the folder it removed, 0 for a non-folder)
 * are summed by path; score = Σ smallest size per path / Σ all sizes per path, 1 when nothing was sized.
 * dive's wasted bytes are the summed sizes of the paths seen more than once, each copy counted.
 */
export function efficiencyOf(paths: Iterable<PathSizes | number>): LayerEfficiency {
  let minimum = 0;
  let discovered = 0;
  let wasted = 0;
  for (const sizes of paths) {
    if (typeof sizes === 'number') {
      minimum += sizes;
      discovered += sizes;
      continue;
    }
    minimum += sizes.minimum;
    discovered += sizes.cumulative;
    if (sizes.count > 1) wasted += sizes.cumulative;
  }
  return {
    score: discovered === 0 ? 1 : minimum / discovered,
    minimum_bytes: minimum,
    discovered_bytes: discovered,
    wasted_bytes: wasted,
  };
}

/**
 * A whiteout of a folder weighs the files it removes whenever a folder is there. Differs from dive, whose
 * stacked tree forgets a folder is one when a later layer writes below it without listing it (the whiteout
 * then weighs 0): the applied tree knows.
 */
function sizedAsFolder(node: TreeNode | undefined): boolean {
  return node?.kind === 'dir';
}

function removedBytesBelow(removed: readonly RemovedPath[], path: string): number {
  let bytes = 0;
  for (const entry of removed) {
    if (entry.path === path || entry.path.startsWith(`${path}/`)) bytes += entry.bytes;
  }
  return bytes;
}

function newCounting(): Counting {
  return {
    size: 0,
    added: { files: 0, bytes: 0 },
    changed: { files: 0, bytes: 0 },
    deleted: { files: 0, bytes: 0 },
    removed: [],
    touched: new PathMap(),
    fileMembers: [],
    above: new PathMap(),
    whiteouts: new PathMap(),
  };
}

function emptyCounting(): Omit<LayerFact, 'wasted'> & { inodes: Set<Inode> } {
  const { size, added, changed, deleted, removed } = newCounting();
  return { size, added, changed, deleted, removed, inodes: new Set() };
}

/**
 * A map by path, held as parent folder path, then name: one string per folder and the names, where a key of
 * the whole path was one more string per member (100,000 members, some MiB).
 */
class PathMap<V> {
  private readonly byParent = new Map<string, Map<string, V>>();

  get(parent: string, name: string): V | undefined {
    return this.byParent.get(parent)?.get(name);
  }

  has(parent: string, name: string): boolean {
    return this.byParent.get(parent)?.has(name) ?? false;
  }

  set(parent: string, name: string, value: V): void {
    let names = this.byParent.get(parent);
    if (names === undefined) {
      names = new Map();
      this.byParent.set(parent, names);
    }
    names.set(name, value);
  }

  *entries(): Generator<[parent: string, name: string, value: V]> {
    for (const [parent, names] of this.byParent)
      for (const [name, value] of names) yield [parent, name, value];
  }

  *values(): Generator<V> {
    for (const names of this.byParent.values()) yield* names.values();
  }

  clear(): void {
    this.byParent.clear();
  }
}
