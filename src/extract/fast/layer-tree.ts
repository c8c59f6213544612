import type { EntryType, ManifestEntry } from '../../manifest.js';
import { canonicaliseHardlinks, entryOf } from '../hardlink-groups.js';
import { LayerFacts } from './layer-facts.js';

/** What a non-directory name holds; names that are hardlinks of each other share one object. */
export interface Inode {
  type: Exclude<EntryType, 'dir' | 'hardlink'>;
  mode: number;
  uid: number;
  gid: number;
  /** Whole seconds, as the manifest shows them. */
  mtime: number;
  size: number;
  /** SHA-256 of a regular file's content: its 32 bytes as a one-byte (binary) string, half the memory of hex. */
  digest?: string;
  /** Symlink target, a byte string. */
  target?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, string>;
  /**
   * With `--path`: a selected hardlink whose file is outside the selection, by the file's path; its body is
   * never read, so nothing is on disk. Only the header's metadata is known.
   */
  bodyOutside?: string;
}

export interface DirMeta {
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  /** The mtime exactly as the layer gave it (PAX may carry fractions), to restore it on disk. */
  exactMtime: number;
  xattrs?: Record<string, string>;
}

export interface DirNode {
  readonly kind: 'dir';
  meta: DirMeta;
  /** By name, a byte string. */
  readonly children: Map<string, TreeNode>;
  /** Index of the highest layer whose diff holds this directory (listed or as a parent of something). */
  layer: number;
  /** Index of the highest layer that gave it its metadata: listed it with its own header, or made it new. */
  listed: number;
}

export interface LeafNode {
  readonly kind: 'leaf';
  readonly inode: Inode;
  readonly layer: number;
}

export type TreeNode = DirNode | LeafNode;

/**
 * The image's filesystem as the layers applied so far leave it, mirrored in memory: it decides what each
 * tar member may do before GNU tar sees it, and becomes the manifest at the end.
 */
export class LayerTree {
  /** Layer members seen so far, whiteouts included: for progress. */
  members = 0;
  readonly root: DirNode = newDir({ mode: 0o755, uid: 0, gid: 0, mtime: 0, exactMtime: 0 }, -1);
  /** What each layer added, changed, removed and wasted, gathered as the layers are applied. */
  readonly facts = new LayerFacts();
  /**
   * With `--path`: the selected hardlinks whose file is outside it, as placed. An error only for those the
   * final image still holds (a later layer may replace or hide them): `checkSelectedInTree`.
   */
  readonly linksOutside: { readonly parts: readonly string[]; readonly inode: Inode }[] = [];
  /** Every inode a hardlink member named: only these may have more than one name. */
  readonly linked = new Set<Inode>();

  /** The directory at `parts`, or undefined when a component is missing or not a directory. */
  dir(parts: readonly string[]): DirNode | undefined {
    let node: TreeNode = this.root;
    for (const part of parts) {
      if (node.kind !== 'dir') return undefined;
      const child = node.children.get(part);
      if (!child) return undefined;
      node = child;
    }
    return node.kind === 'dir' ? node : undefined;
  }

  /** The node at `parts` when every component above it is a directory. */
  node(parts: readonly string[]): TreeNode | undefined {
    if (parts.length === 0) return this.root;
    return this.dir(parts.slice(0, -1))?.children.get(parts[parts.length - 1] as string);
  }

  /**
   * Manifest entries of every name but the root, hardlink groups canonical, sorted by the caller. Consumes
   * the tree: each directory is emptied once walked, so the tree and the entries are never both whole in
   * memory (100,000 entries are some tens of MiB each).
   */
  entries(): ManifestEntry[] {
    const entries: ManifestEntry[] = [];
    const primaries = new Map<Inode, string>();
    const walk = (dir: DirNode, prefix: string) => {
      for (const [name, node] of dir.children) {
        const path = prefix + name;
        if (node.kind === 'dir') {
          const { mode, uid, gid, mtime, xattrs } = node.meta;
          entries.push(
            entryOf({ path, type: 'dir', mode, uid, gid, size: 0, mtime, xattrs, layer: node.listed }),
          );
          walk(node, `${path}/`);
          node.children.clear();
          continue;
        }
        const { inode } = node;
        const primary = this.linked.has(inode) ? primaries.get(inode) : undefined;
        if (primary !== undefined) {
          const { mode, uid, gid, mtime, xattrs } = inode;
          entries.push(
            entryOf({
              path,
              type: 'hardlink',
              mode,
              uid,
              gid,
              size: 0,
              mtime,
              target: primary,
              xattrs,
              layer: node.layer,
            }),
          );
          continue;
        }
        if (this.linked.has(inode)) primaries.set(inode, path);
        const { type, mode, uid, gid, size, mtime, digest, target, devmajor, devminor, xattrs } = inode;
        const sha256 = digest === undefined ? undefined : Buffer.from(digest, 'binary').toString('hex');
        entries.push(
          entryOf({
            path,
            type,
            mode,
            uid,
            gid,
            size,
            mtime,
            target,
            sha256,
            devmajor,
            devminor,
            xattrs,
            layer: node.layer,
          }),
        );
      }
    };
    walk(this.root, '');
    this.root.children.clear();
    return canonicaliseHardlinks(entries);
  }
}

export function newDir(meta: DirMeta, layer: number): DirNode {
  return { kind: 'dir', meta, children: new Map(), layer, listed: layer };
}

/** True when the node or anything below it came from `layer`. */
export function touchedBy(node: TreeNode, layer: number): boolean {
  if (node.layer === layer) return true;
  if (node.kind !== 'dir') return false;
  for (const child of node.children.values()) if (touchedBy(child, layer)) return true;
  return false;
}
