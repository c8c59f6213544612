import { createHash } from 'node:crypto';
import {
  chmodSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  renameSync,
  rmdirSync,
  rmSync,
  unlinkSync,
  utimesSync,
} from 'node:fs';
import { rm, unlink } from 'node:fs/promises';
import { encodeBytes } from '../../tar/byte-string.js';
import { splitPath } from '../../tar/member-path.js';
import { paxTime } from '../../tar/pax-time.js';
import type { TarHeader } from '../../tar/tar-member.js';
import type { PathSelection } from '../path-selection.js';
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
import { whiteoutOf } from './whiteout.js';

const isRoot = process.getuid?.() === 0;
/** Unlinks in flight at once: enough to keep the thread pool busy. */
const PARALLEL_UNLINKS = 8;

/**
 * Applies one layer's members by the OCI image spec's changeset rules: an entry the layer does not list is
 * unchanged (a folder it only writes below keeps its owner, mode, mtime and xattrs); `.wh.NAME` hides NAME
 * and all below it in lower layers; `DIR/.wh..wh..opq` hides every lower child of DIR (of the root too);
 * whiteouts never hide what the same layer writes, and xattrs named like overlayfs markers are plain
 * xattrs. Decides for each member before GNU tar sees it, keeps the tree in step, and after GNU tar is done
 * applies the layer's whiteouts. Every path it touches on disk has only real directories above it (checked
 * in the tree), so nothing is ever written or removed through a symlink; GNU tar would follow one.
 */
export class LayerRules {
  private readonly whiteouts: string[][] = [];
  private readonly opaque: string[][] = [];
  /**
   * Directories whose mtime must be set once the layer is written: those it lists (GNU tar sets them too
   * early when names mix `./x` and `x`), those it writes or removes in, and those it makes as parents.
   */
  private readonly dirty = new Map<DirNode, string[]>();
  /** Hardlink members whose header metadata the engine applies to the shared inode and GNU tar does not. */
  private readonly linkFixes: { parts: string[]; inode: Inode }[] = [];
  /** Device nodes in this layer: mknod needs root, so as non-root GNU tar's refusals are expected. */
  devices = 0;

  constructor(
    private readonly tree: LayerTree,
    root: string,
    private readonly layer: number,
    /** With `--path`: members outside it never reach the tree or GNU tar (their bodies are skipped). */
    private readonly selection?: PathSelection | undefined,
  ) {
    this.root = Buffer.from(root);
  }

  private readonly root: Buffer;

  /** The filter's handler: what to do with one member. */
  readonly member = (header: TarHeader): { keep: boolean; data?: DataSink } => {
    this.tree.members++;
    const parts = splitPath(header.name);
    const name = parts[parts.length - 1];
    if (name === undefined) return { keep: false };
    this.tree.facts.member(header, parts, this.tree, this.layer);
    const parentParts = parts.slice(0, -1);
    if (this.selection?.rootsOnly) this.endLinks(parentParts, name, header);
    const place = this.selection?.place(subject(parentParts, name));
    if (place === 'outside') return this.outside(header);
    if (place === 'below') return this.below(parts, name, header);
    // A whiteout makes nothing, not even its folder: it only hides what lower layers have (in finish).
    const whiteout = whiteoutOf(name);
    if (whiteout) {
      if (whiteout.kind === 'opaque') this.opaque.push(parentParts);
      else if (whiteout.kind === 'hides') this.whiteouts.push([...parentParts, whiteout.name]);
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
      const inode = this.linkTarget(header, parts);
      this.tree.linked.add(inode);
      parent.children.set(name, { kind: 'leaf', inode, layer: this.layer });
      // GNU tar could not link a name whose file it never wrote.
      return { keep: inode.bodyOutside === undefined };
    }
    const inode = leafInode(header);
    parent.children.set(name, { kind: 'leaf', inode, layer: this.layer });
    if (header.kind === 'char' || header.kind === 'block') this.devices++;
    if (header.kind !== 'file') return { keep: true };
    this.tree.facts.placedFile(parent, name, this.layer);
    const hash = createHash('sha256');
    return {
      keep: true,
      data: {
        update: (chunk) => hash.update(chunk),
        end: () => {
          inode.digest = hash.digest('binary');
        },
      },
    };
  };

  /**
   * A member outside the selection: skipped, but a hardlink's header still changes the inode it shares with
   * a selected name, as it does in the whole image.
   */
  private outside(header: TarHeader): { keep: false } {
    if (header.kind !== 'hardlink') return { keep: false };
    const targetParts = splitPath(header.linkname);
    const target = this.tree.node(targetParts);
    if (target?.kind === 'leaf' && applyLinkHeader(target.inode, header)) {
      this.linkFixes.push({ parts: targetParts, inode: target.inode });
    }
    return { keep: false };
  }

  /**
   * A member below a selected path when only the roots are read: skipped, but it changes the root as it
   * would in the whole image (the layer holds the root, and makes it when no lower layer has it).
   */
  private below(parts: string[], name: string, header: TarHeader): { keep: false } {
    const root = this.selection?.rootOf(parts);
    if (root && !whiteoutOf(name)) this.ensureDir(root);
    if (header.kind === 'hardlink') this.selection?.noteLink(parts, splitPath(header.linkname), this.layer);
    return { keep: false };
  }

  /** Roots only: the noted links this member ends, replacing or hiding a name of theirs (`forgetLinks`). */
  private endLinks(parentParts: string[], name: string, header: TarHeader): void {
    const selection = this.selection as PathSelection;
    const whiteout = whiteoutOf(name);
    if (whiteout?.kind === 'opaque') selection.forgetLinks(parentParts, this.layer, 'below', true);
    else if (whiteout?.kind === 'reserved') return;
    else if (whiteout?.kind === 'hides') {
      selection.forgetLinks([...parentParts, whiteout.name], this.layer, 'tree', true);
    } else {
      selection.forgetLinks(
        [...parentParts, name],
        this.layer,
        header.kind === 'dir' ? 'name' : 'tree',
        false,
      );
    }
  }

  /** After GNU tar has written the layer: whiteouts, the metadata of hardlinked inodes, and mtimes we disturbed. */
  async finish(): Promise<void> {
    this.removals = { files: [], dirs: [] };
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
      else if (node.kind === 'dir') {
        // Whiteouts hide only lower layers: a directory this layer also wrote keeps just its own children,
        // and one it did not list is a new folder, with nothing of the one it hides.
        this.removeLower(node, parts);
        if (node.listed !== this.layer) {
          await this.flushRemovals();
          this.renew(parent, parentParts, name, node);
        }
      }
    }
    await this.flushRemovals();
    this.removals = undefined;
    for (const { parts, inode } of this.linkFixes) {
      const path = this.path(parts);
      if (isRoot) lchownSync(path, inode.uid, inode.gid);
      if (inode.type !== 'symlink') {
        chmodSync(path, inode.mode);
        utimesSync(path, inode.mtime, inode.mtime);
      }
    }
    for (const [dir, parts] of this.dirty) {
      if (this.tree.dir(parts) !== dir) continue;
      utimesSync(this.path(parts), dir.meta.exactMtime, dir.meta.exactMtime);
    }
    this.tree.facts.endLayer(this.layer);
  }

  /**
   * The directory at `parts`. A folder on the way that exists keeps its metadata (the layer does not list
   * it, so it is unchanged); one that does not is made with `missingParentMeta`. The last one is marked
   * dirty: writing or removing the member changes its mtime on disk.
   */
  private ensureDir(parts: readonly string[]): DirNode {
    let dir = this.tree.root;
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i] as string;
      const child = dir.children.get(name);
      if (child?.kind === 'dir') {
        child.layer = this.layer;
        dir = child;
        continue;
      }
      if (child && child.layer === this.layer) {
        throw new UnsupportedLayerError(
          `layer member below ${JSON.stringify(parts.slice(0, i + 1).join('/'))}, which the same layer made a non-directory`,
        );
      }
      dir = this.makeParent(dir, parts.slice(0, i), name, child);
    }
    this.markDirty(dir, parts);
    return dir;
  }

  /**
   * Makes a parent folder the layer needs but does not list, where no lower folder is; a lower non-folder
   * there goes first (`replacesLowerNonDir`).
   */
  private makeParent(
    parent: DirNode,
    parentParts: string[],
    name: string,
    lower: TreeNode | undefined,
  ): DirNode {
    const parts = [...parentParts, name];
    const path = this.path(parts);
    if (lower && replacesLowerNonDir() && !notOnDisk(lower)) unlinkSync(path);
    const meta = missingParentMeta();
    this.mkdir(path, meta);
    this.markDirty(parent, parentParts);
    const created = newDir(meta, this.layer);
    parent.children.set(name, created);
    this.markDirty(created, parts);
    return created;
  }

  /**
   * Replaces the folder `name` of `parent`, which this layer whites out and writes below without listing
   * it, by a new one with `missingParentMeta`: a new inode, so that none of the old one's owner, mode, time
   * or xattrs survive. What this layer wrote below it moves into the new one.
   */
  private renew(parent: DirNode, parentParts: string[], name: string, node: DirNode): void {
    const parts = [...parentParts, name];
    let spare = `${name}.renew`;
    while (parent.children.has(spare)) spare += '~';
    const meta = missingParentMeta();
    this.mkdir(this.path([...parentParts, spare]), meta);
    for (const [child, childNode] of node.children) {
      const from = this.path([...parts, child]);
      if (notOnDisk(childNode) && !lstatSync(from, { throwIfNoEntry: false })) continue;
      renameSync(from, this.path([...parentParts, spare, child]));
    }
    rmdirSync(this.path(parts));
    renameSync(this.path([...parentParts, spare]), this.path(parts));
    node.meta = meta;
    node.listed = this.layer;
    this.markDirty(node, parts);
    this.markDirty(parent, parentParts);
  }

  /** A new folder with `meta`'s owner (as root) and mode; its time is set with the dirty ones. */
  private mkdir(path: Buffer, meta: DirMeta): void {
    mkdirSync(path);
    // A setgid parent would hand its group to the new folder.
    if (isRoot) lchownSync(path, meta.uid, meta.gid);
    chmodSync(path, meta.mode);
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

  /**
   * The inode a selected hardlink member shares. Its file outside the selection (or, reading roots only,
   * below a selected path) was never read: the name holds the header's metadata alone, marked `bodyOutside`.
   * Reading roots only, that is all a root needs (and a link to below another root is noted for relinking);
   * otherwise it fails once every layer is applied, if the final image still holds it.
   */
  private linkTarget(header: TarHeader, parts: string[]): Inode {
    const targetParts = splitPath(header.linkname);
    const place = this.selection?.place(targetParts);
    if (place === 'outside' || place === 'below') {
      const { mode, uid, gid, mtime } = header;
      const inode: Inode = { type: 'file', mode, uid, gid, mtime, size: 0 };
      inode.bodyOutside = targetParts.join('/');
      if (this.selection?.rootsOnly) this.selection.noteLink(parts, targetParts, this.layer);
      else this.tree.linksOutside.push({ parts, inode });
      return inode;
    }
    const target = this.tree.node(targetParts);
    if (target?.kind !== 'leaf' || targetParts.join('/') === parts.join('/')) {
      throw new UnsupportedLayerError(
        `layer hardlink ${JSON.stringify(header.name)} points to ${JSON.stringify(header.linkname)}, which is not a file of the image`,
      );
    }
    const { inode } = target;
    if (inode.bodyOutside !== undefined) {
      if (!this.selection?.rootsOnly) this.tree.linksOutside.push({ parts, inode });
      return inode;
    }
    if (applyLinkHeader(inode, header)) this.linkFixes.push({ parts, inode });
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
    const stat = lstatSync(path, { throwIfNoEntry: !notOnDisk(node) });
    if (stat?.isDirectory()) {
      if (node.kind !== 'dir') throw new Error(`${path} is a directory on disk but not in the layer tree`);
      if (this.removals) this.removals.dirs.push(path);
      else rmSync(path, { recursive: true, force: true });
    } else if (stat) {
      if (this.removals) this.removals.files.push(path);
      else unlinkSync(path);
    }
    this.tree.facts.removed(node, [...parentParts, name], this.layer);
    parent.children.delete(name);
    this.markDirty(parent, parentParts);
  }

  /**
   * Whiteouts' removals, queued by `remove` while `finish` runs: many files are unlinked at once on the
   * thread pool (a layer may hide tens of thousands), then the folders one by one, since a hidden folder may
   * hold another.
   */
  private removals: { files: Buffer[]; dirs: Buffer[] } | undefined;

  private async flushRemovals(): Promise<void> {
    const queued = this.removals;
    if (!queued) return;
    const { files, dirs } = queued;
    this.removals = { files: [], dirs: [] };
    let next = 0;
    const worker = async () => {
      while (next < files.length) await unlink(files[next++] as Buffer);
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_UNLINKS, files.length) }, worker));
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  }

  private markDirty(dir: DirNode, parts: readonly string[]): void {
    if (dir !== this.tree.root) this.dirty.set(dir, [...parts]);
  }

  /** A Buffer, not a string: names are bytes, and a string path would be re-encoded as UTF-8. */
  private path(parts: readonly string[]): Buffer {
    return Buffer.concat([this.root, encodeBytes(`/${parts.join('/')}`)]);
  }
}

/** The name a member is about: a whiteout's hidden name, an opaque marker's folder, or its own. */
function subject(parentParts: string[], name: string): string[] {
  const whiteout = whiteoutOf(name);
  if (whiteout?.kind === 'opaque') return parentParts;
  if (whiteout?.kind === 'hides') return [...parentParts, whiteout.name];
  return [...parentParts, name];
}

/**
 * What a folder a layer needs as a parent gets when no lower layer has a folder there. umoci (`MkdirAll`,
 * 0777 under the umask) and containerd (`mkparent`, 0755) give it the unpacking user, mode 0755 and the time
 * of the run; only the time is taken differently here, the epoch, so that two dumps of one image are
 * identical.
 */
export function missingParentMeta(): DirMeta {
  return { mode: 0o755, uid: 0, gid: 0, mtime: 0, exactMtime: 0 };
}

/**
 * A lower non-folder (a symlink included) where a layer writes below is replaced by a folder. Differs from
 * umoci, which resolves in-image symlinks there: every engine replaces it (overlayfs shows the upper
 * folder), and a followed link could lead outside the output.
 */
function replacesLowerNonDir(): true {
  return true;
}

/**
 * A hardlink member's owner, mode and mtime become the shared inode's (not a symlink's mode or time), as
 * every engine's applier (moby's, containerd's) chowns, chmods and touches the link's name. Differs from
 * umoci, which ignores a hardlink header's metadata; the spec is silent. True when the inode changed.
 */
function applyLinkHeader(inode: Inode, header: TarHeader): boolean {
  const changed =
    inode.uid !== header.uid ||
    inode.gid !== header.gid ||
    (inode.type !== 'symlink' && (inode.mode !== header.mode || inode.mtime !== header.mtime));
  if (!changed) return false;
  inode.uid = header.uid;
  inode.gid = header.gid;
  if (inode.type !== 'symlink') {
    inode.mode = header.mode;
    inode.mtime = header.mtime;
  }
  return true;
}

/** In the tree, never on disk: a device node as non-root (mknod needs root), or a link whose file is outside the selection. */
function notOnDisk(node: TreeNode): boolean {
  if (node.kind !== 'leaf') return false;
  const { type, bodyOutside } = node.inode;
  return bodyOutside !== undefined || (!isRoot && (type === 'char' || type === 'block'));
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

/**
 * Each kind of inode in one shape, each field set here once (the digest too, before the data gives it): V8
 * then shares one hidden class among the files, where object spread and late fields gave each file of a
 * layer its own (about 280 bytes a file; 26 MiB of a 100,000-file image's tree). A file has no fields for a
 * symlink's target or a device's numbers: three fewer words for each of many files.
 */
function leafInode(header: TarHeader): Inode {
  const { kind, mode, uid, gid, mtime } = header;
  const xattrs = keptXattrs(header);
  switch (kind) {
    case 'file':
      return { type: kind, mode, uid, gid, mtime, size: header.size, digest: undefined, xattrs };
    case 'symlink':
      // Linux has no symlink permissions: every symlink reads 0777, whatever the layer said.
      return { type: kind, mode: 0o777, uid, gid, mtime, size: 0, target: header.linkname, xattrs };
    case 'char':
    case 'block': {
      const { devmajor, devminor } = header;
      return { type: kind, mode, uid, gid, mtime, size: 0, devmajor, devminor, xattrs };
    }
    case 'fifo':
      return { type: kind, mode, uid, gid, mtime, size: 0, xattrs };
    default:
      throw new Error(`unexpected member kind ${kind}`);
  }
}

function keptXattrs(header: TarHeader): Record<string, string> | undefined {
  return Object.keys(header.xattrs).length === 0 ? undefined : { ...header.xattrs };
}
