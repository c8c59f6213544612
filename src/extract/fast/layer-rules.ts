import { createHash } from 'node:crypto';
import { chmodSync, lchownSync, lstatSync, mkdirSync, rmSync, unlinkSync, utimesSync } from 'node:fs';
import { encodeBytes } from '../../tar/byte-string.js';
import { splitPath } from '../../tar/member-path.js';
import { paxTime } from '../../tar/pax-time.js';
import type { TarHeader } from '../../tar/tar-member.js';
import type { DataSink } from './layer-filter.js';
import {
  type DirMeta,
  type DirNode,
  type Inode,
  type LayerTree,
  newDir,
  type TreeNode,
  touchedBy,
} from './layer-tree.js';
import { UnsupportedLayerError } from './unsupported-layer-error.js';

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

const isRoot = process.getuid?.() === 0;

/**
 * Applies one layer's members the way the engine's overlay2 stack shows them: decides for each member before
 * GNU tar sees it, keeps the tree in step, and after GNU tar is done applies the layer's whiteouts. Every
 * path it touches on disk has only real directories above it (checked in the tree), so nothing is ever
 * written or removed through a symlink; GNU tar would follow one.
 */
export class LayerRules {
  private readonly whiteouts: string[][] = [];
  private readonly opaque: string[][] = [];
  /**
   * Directories whose mtime must be set once the layer is written: those it lists (GNU tar sets them too
   * early when names mix `./x` and `x`) and those our own removals changed.
   */
  private readonly dirty = new Map<DirNode, string[]>();
  /** Existing directories this layer holds only as parents of something: the engine recreates them 0755 root. */
  private readonly implied = new Map<DirNode, string[]>();
  /** Hardlink members whose header metadata the engine applies to the shared inode and GNU tar does not. */
  private readonly linkFixes: { parts: string[]; inode: Inode }[] = [];
  /** Device nodes in this layer: mknod needs root, so as non-root GNU tar's refusals are expected. */
  devices = 0;

  constructor(
    private readonly tree: LayerTree,
    root: string,
    private readonly layer: number,
  ) {
    this.root = Buffer.from(root);
  }

  private readonly root: Buffer;

  /** The filter's handler: what to do with one member. */
  readonly member = (header: TarHeader): { keep: boolean; data?: DataSink } => {
    const parts = splitPath(header.name);
    const name = parts[parts.length - 1];
    if (name === undefined) return { keep: false };
    const parentParts = parts.slice(0, -1);
    if (name.startsWith(WHITEOUT)) {
      const parent = this.ensureDir(parentParts);
      parent.layer = this.layer;
      if (name === OPAQUE) this.opaque.push(parentParts);
      else if (!name.startsWith(`${WHITEOUT}${WHITEOUT}`))
        this.whiteouts.push([...parentParts, name.slice(WHITEOUT.length)]);
      return { keep: false };
    }
    const parent = this.ensureDir(parentParts);
    const existing = parent.children.get(name);
    if (header.kind === 'dir') {
      const meta = dirMeta(header);
      let dir: DirNode;
      if (existing?.kind === 'dir') {
        dir = existing;
        dir.meta = meta;
        dir.layer = this.layer;
        dir.listed = this.layer;
        this.implied.delete(dir);
      } else {
        // GNU tar replaces a non-directory (a symlink included) by the directory itself.
        dir = newDir(meta, this.layer);
        parent.children.set(name, dir);
      }
      this.dirty.set(dir, parts);
      return { keep: true };
    }
    if (existing?.kind === 'dir') this.removeLowerDir(parent, parentParts, name, existing);
    if (header.kind === 'hardlink') {
      parent.children.set(name, { kind: 'leaf', inode: this.linkTarget(header, parts), layer: this.layer });
      return { keep: true };
    }
    const inode = leafInode(header);
    parent.children.set(name, { kind: 'leaf', inode, layer: this.layer });
    if (header.kind === 'char' || header.kind === 'block') this.devices++;
    if (header.kind !== 'file') return { keep: true };
    const hash = createHash('sha256');
    return {
      keep: true,
      data: {
        update: (chunk) => hash.update(chunk),
        end: () => {
          inode.sha256 = hash.digest('hex');
        },
      },
    };
  };

  /** After GNU tar has written the layer: whiteouts, the engine's metadata rules, and mtimes we disturbed. */
  finish(): void {
    for (const parts of this.opaque) {
      const dir = this.tree.dir(parts);
      if (dir) this.removeLower(dir, parts);
    }
    for (const parts of this.whiteouts) {
      const parentParts = parts.slice(0, -1);
      const parent = this.tree.dir(parentParts);
      const name = parts[parts.length - 1] as string;
      const node = parent?.children.get(name);
      if (!parent || !node) continue;
      if (node.layer !== this.layer) this.remove(parent, parentParts, name);
      // Whiteouts hide only lower layers; a directory this layer also wrote keeps just its own children.
      else if (node.kind === 'dir') this.removeLower(node, parts);
    }
    for (const [dir, parts] of this.implied) {
      dir.meta = { ...dir.meta, mode: 0o755, uid: 0, gid: 0, xattrs: undefined };
      dir.listed = this.layer;
      const path = this.path(parts);
      chmodSync(path, 0o755);
      if (isRoot) lchownSync(path, 0, 0);
    }
    for (const { parts, inode } of this.linkFixes) {
      const path = this.path(parts);
      if (isRoot) lchownSync(path, inode.uid, inode.gid);
      if (inode.type !== 'symlink') {
        chmodSync(path, inode.mode);
        utimesSync(path, inode.mtime, inode.mtime);
      }
    }
    for (const [dir, parts] of this.dirty) {
      if (this.tree.dir(parts) !== dir || this.implied.has(dir)) continue;
      utimesSync(this.path(parts), dir.meta.exactMtime, dir.meta.exactMtime);
    }
  }

  /** The directory at `parts`, creating what the layer implies but does not list, as the engine does. */
  private ensureDir(parts: readonly string[]): DirNode {
    let dir = this.tree.root;
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i] as string;
      const here = parts.slice(0, i);
      const child = dir.children.get(name);
      if (child?.kind === 'dir') {
        if (child.listed !== this.layer && child.layer !== this.layer)
          this.implied.set(child, parts.slice(0, i + 1));
        child.layer = this.layer;
        dir = child;
        continue;
      }
      if (child && child.layer === this.layer) {
        throw new UnsupportedLayerError(
          `layer member below ${JSON.stringify(parts.slice(0, i + 1).join('/'))}, which the same layer made a non-directory`,
        );
      }
      // A lower non-directory in the way goes (never followed); a missing parent is made, 0755 root.
      const path = this.path(parts.slice(0, i + 1));
      if (child) unlinkSync(path);
      mkdirSync(path);
      chmodSync(path, 0o755);
      this.markDirty(dir, here);
      const now = Math.floor(lstatSync(path).mtimeMs / 1000);
      const created = newDir({ mode: 0o755, uid: 0, gid: 0, mtime: now, exactMtime: now }, this.layer);
      created.listed = -1;
      dir.children.set(name, created);
      dir = created;
    }
    return dir;
  }

  /** A non-directory replaces a lower directory: the whole lower tree goes before GNU tar writes the name. */
  private removeLowerDir(parent: DirNode, parentParts: string[], name: string, existing: DirNode): void {
    if (touchedBy(existing, this.layer)) {
      throw new UnsupportedLayerError(
        `layer replaces ${JSON.stringify([...parentParts, name].join('/'))}, a directory it wrote itself, by a non-directory`,
      );
    }
    this.remove(parent, parentParts, name);
  }

  private linkTarget(header: TarHeader, parts: string[]): Inode {
    const targetParts = splitPath(header.linkname);
    const target = this.tree.node(targetParts);
    if (target?.kind !== 'leaf' || targetParts.join('/') === parts.join('/')) {
      throw new UnsupportedLayerError(
        `layer hardlink ${JSON.stringify(header.name)} points to ${JSON.stringify(header.linkname)}, which is not a file of the image`,
      );
    }
    const { inode } = target;
    // The engine chowns the link's name, and chmods and touches it unless it is a symlink: the shared inode.
    const changed =
      inode.uid !== header.uid ||
      inode.gid !== header.gid ||
      (inode.type !== 'symlink' && (inode.mode !== header.mode || inode.mtime !== header.mtime));
    if (changed) {
      inode.uid = header.uid;
      inode.gid = header.gid;
      if (inode.type !== 'symlink') {
        inode.mode = header.mode;
        inode.mtime = header.mtime;
      }
      this.linkFixes.push({ parts, inode });
    }
    return inode;
  }

  /** Removes every child (recursively) that a lower layer left below `dir`. */
  private removeLower(dir: DirNode, parts: string[]): void {
    for (const [name, child] of [...dir.children]) {
      if (child.layer !== this.layer) this.remove(dir, parts, name);
      else if (child.kind === 'dir') this.removeLower(child, [...parts, name]);
    }
  }

  private remove(parent: DirNode, parentParts: string[], name: string): void {
    const node = parent.children.get(name) as TreeNode;
    const path = this.path([...parentParts, name]);
    // lstat first: the tree says every component above is a real directory; the disk must agree.
    const stat = lstatSync(path);
    if (node.kind === 'dir' && stat.isDirectory()) rmSync(path, { recursive: true, force: true });
    else if (!stat.isDirectory()) unlinkSync(path);
    else throw new Error(`${path} is a directory on disk but not in the layer tree`);
    parent.children.delete(name);
    this.markDirty(parent, parentParts);
  }

  private markDirty(dir: DirNode, parts: readonly string[]): void {
    if (dir !== this.tree.root) this.dirty.set(dir, [...parts]);
  }

  /** A Buffer, not a string: names are bytes, and a string path would be re-encoded as UTF-8. */
  private path(parts: readonly string[]): Buffer {
    return Buffer.concat([this.root, encodeBytes(`/${parts.join('/')}`)]);
  }
}

function dirMeta(header: TarHeader): DirMeta {
  const exact = header.pax.mtime !== undefined ? paxTime(header.pax.mtime) : header.mtime;
  return {
    mode: header.mode,
    uid: header.uid,
    gid: header.gid,
    mtime: header.mtime,
    exactMtime: exact,
    xattrs: keptXattrs(header),
  };
}

function leafInode(header: TarHeader): Inode {
  const { mode, uid, gid, mtime } = header;
  const base = { mode, uid, gid, mtime, size: 0, xattrs: keptXattrs(header) };
  switch (header.kind) {
    case 'file':
      return { ...base, type: 'file', size: header.size };
    // Linux has no symlink permissions: every symlink reads 0777, whatever the layer said.
    case 'symlink':
      return { ...base, type: 'symlink', mode: 0o777, target: header.linkname };
    case 'char':
    case 'block':
      return { ...base, type: header.kind, devmajor: header.devmajor, devminor: header.devminor };
    case 'fifo':
      return { ...base, type: 'fifo' };
    default:
      throw new Error(`unexpected member kind ${header.kind}`);
  }
}

function keptXattrs(header: TarHeader): Record<string, string> | undefined {
  return Object.keys(header.xattrs).length === 0 ? undefined : { ...header.xattrs };
}
