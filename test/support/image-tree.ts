import { createHash } from 'node:crypto';
import { type BigIntStats, createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { type Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type Dockerode from 'dockerode';
import { execa } from 'execa';
import tar, { type Header } from 'tar-stream';
import type { EntryType, ManifestEntry } from '../../src/manifest.js';
import { decodeBytes } from '../../src/tar/byte-string.js';

// Test oracle: what an image holds, read from the image's own layers (docker save), independent of the
// container and copy paths the tool under test uses; and the same shape read back from a dump on disk.

export type TreeEntry = ManifestEntry;

/** An entry of a dumped folder; hardlinked files are plain files sharing `ino` (with `nlink` > 1). */
export interface DiskEntry extends ManifestEntry {
  readonly ino: bigint;
  readonly nlink: number;
}

/**
 * How layers are applied: by the OCI image spec's changeset rules, or as Engine 20.10's overlay2 store shows
 * them, where a folder a layer needs as a parent but does not list becomes root:root 0755 with the time of
 * `docker load` (marked here with mtime 0, since no API tells it).
 */
export type LayerRules = 'spec' | 'overlay2';

/** The final filesystem of `image` (name or ID), keyed by path relative to the root; the root is left out. */
export async function readImageTree(
  docker: Dockerode,
  image: string,
  rules: LayerRules = 'overlay2',
): Promise<Map<string, TreeEntry>> {
  // docker save does not URL-encode the name; the ID needs no encoding.
  const { Id } = await docker.getImage(image).inspect();
  const archive = await docker.getImage(Id).get();
  return readImageArchive(archive as Readable, rules);
}

/** Same as readImageTree, from a `docker save` stream: legacy docker-archive or OCI layout, layers plain or gzip. */
export async function readImageArchive(
  archive: Readable,
  rules: LayerRules = 'overlay2',
): Promise<Map<string, TreeEntry>> {
  const layers = new Map<string, LayerEntry[]>();
  const documents = new Map<string, unknown>();
  const aliases = new Map<string, string>();
  await pipeline(archive, extractEntries(), async (members: AsyncIterable<Entry>) => {
    for await (const member of members) {
      const { type, linkname } = member.header;
      const name = normalizePath(member.header.name);
      const isLayer = name.endsWith('/layer.tar') || name.startsWith('blobs/');
      if (type === 'symlink' && isLayer && linkname) {
        // Engine 20.10 saves a layer that repeats an earlier one as a symlink to it.
        aliases.set(name, normalizePath(posix.join(posix.dirname(name), linkname)));
      }
      if (type !== 'file' || !(isLayer || name === 'manifest.json' || name === 'index.json')) {
        member.resume();
        continue;
      }
      const content = await readMember(member, name);
      if (content.kind === 'json') documents.set(name, content.value);
      else layers.set(name, content.entries);
    }
  });
  const tree: Tree = new Map();
  for (const layerName of layerOrder(documents)) {
    const entries = layers.get(aliases.get(layerName) ?? layerName);
    if (!entries) throw new Error(`image archive lists layer ${layerName} but does not contain it`);
    applyLayer(tree, entries, rules);
  }
  return materialize(tree);
}

/**
 * Walks a dumped folder with lstat (never following symlinks) and describes every entry below `root`.
 * Names and link targets are read as bytes (see byte-string.ts). With `xattrs`, every extended attribute of
 * every entry too, as getfattr lists them.
 */
export async function readDumpTree(
  root: string,
  options: { xattrs?: boolean } = {},
): Promise<Map<string, DiskEntry>> {
  const attributes = options.xattrs ? await readXattrs(root) : new Map<string, Record<string, string>>();
  const entries: DiskEntry[] = [];
  const rootBytes = Buffer.from(root);
  const pending: Buffer[] = [Buffer.alloc(0)];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    for (const name of await readdir(Buffer.concat([rootBytes, Buffer.from('/'), dir]), {
      encoding: 'buffer',
    })) {
      const pathBytes = dir.length > 0 ? Buffer.concat([dir, Buffer.from('/'), name]) : name;
      const path = decodeBytes(pathBytes);
      const full = Buffer.concat([rootBytes, Buffer.from('/'), pathBytes]);
      const stat = await lstat(full, { bigint: true });
      const type = diskType(stat, path);
      if (type === 'dir') pending.push(pathBytes);
      const xattrs = attributes.get(path);
      entries.push({
        path,
        type,
        mode: Number(stat.mode & 0o7777n),
        uid: Number(stat.uid),
        gid: Number(stat.gid),
        size: type === 'file' ? Number(stat.size) : 0,
        mtime: Number(stat.mtimeNs / 1_000_000_000n),
        ino: stat.ino,
        nlink: Number(stat.nlink),
        ...(type === 'file' ? { sha256: await fileSha256(full) } : {}),
        ...(type === 'symlink' ? { target: decodeBytes(await readlink(full, { encoding: 'buffer' })) } : {}),
        ...(type === 'char' || type === 'block' ? deviceNumbers(stat.rdev) : {}),
        ...(xattrs ? { xattrs } : {}),
      });
    }
  }
  entries.sort((a, b) => byCodeUnits(a.path, b.path));
  return new Map(entries.map((entry) => [entry.path, entry]));
}

/**
 * Every extended attribute below `root` (symlinks not followed), by path relative to it, names and values
 * as byte strings. getfattr writes names raw except for `\ooo` escapes (of backslash, `=`, newline and
 * the like), values in hex.
 */
async function readXattrs(root: string): Promise<Map<string, Record<string, string>>> {
  const { stdout } = await execa(
    'getfattr',
    ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', '.'],
    {
      cwd: root,
      encoding: 'buffer',
      stripFinalNewline: false,
    },
  );
  const result = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  for (const line of splitLines(Buffer.from(stdout))) {
    const text = line.toString('latin1');
    if (text.startsWith('# file: ')) {
      const path = decodeBytes(unescapeOctal(line.subarray('# file: '.length))).replace(/^\.\/?/, '');
      current = {};
      if (path !== '' && path !== '.') result.set(path, current);
      continue;
    }
    const equals = line.indexOf(0x3d);
    if (!current || equals < 0) continue;
    const value = text.slice(equals + 1);
    if (value !== '' && !value.startsWith('0x'))
      throw new Error(`getfattr wrote a value not in hex: ${value}`);
    current[decodeBytes(unescapeOctal(line.subarray(0, equals)))] = decodeBytes(
      Buffer.from(value.slice(2), 'hex'),
    );
  }
  return result;
}

function splitLines(buffer: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  for (let start = 0; start < buffer.length; ) {
    const end = buffer.indexOf(0x0a, start);
    const stop = end < 0 ? buffer.length : end;
    lines.push(buffer.subarray(start, stop));
    start = stop + 1;
  }
  return lines;
}

function unescapeOctal(bytes: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const digits = bytes.subarray(i + 1, i + 4).toString('latin1');
    if (bytes[i] === 0x5c && /^[0-7]{3}$/.test(digits)) {
      out.push(Number.parseInt(digits, 8));
      i += 3;
    } else out.push(bytes[i] as number);
  }
  return Buffer.from(out);
}

/**
 * Human-readable differences between two trees (empty when they agree): presence, type, mode (not of
 * symlinks, which have none on Linux), owners when asked, size, content and mtime of regular files, symlink
 * targets, device numbers, and hardlink grouping (names of one inode in `expected` must be one inode in
 * `actual`, and no more). Either side may be an image tree (hardlink entries) or a disk tree (shared inodes).
 */
export function compareTrees(
  expected: ReadonlyMap<string, TreeEntry | DiskEntry>,
  actual: ReadonlyMap<string, TreeEntry | DiskEntry>,
  options: {
    owners: boolean;
    /** Also the mtime of folders (the image's, by the spec; an engine's merge may stamp its own). */
    dirMtimes?: boolean;
    /** Also every extended attribute, by name and exact value. */
    xattrs?: boolean;
  },
): string[] {
  const want = resolveLinks(expected);
  const got = resolveLinks(actual);
  const differences: string[] = [];
  for (const [path, entry] of want.entries) {
    if (!got.entries.has(path)) differences.push(`${path}: missing (expected ${entry.type})`);
  }
  for (const [path, entry] of got.entries) {
    if (!want.entries.has(path)) differences.push(`${path}: unexpected ${entry.type}`);
  }
  const reportedGroups = new Set<string>();
  for (const [path, w] of want.entries) {
    const g = got.entries.get(path);
    if (!g) continue;
    if (w.type !== g.type) {
      differences.push(`${path}: type ${w.type}, got ${g.type}`);
      continue;
    }
    const field = (name: string, a: unknown, b: unknown, show: (v: unknown) => string = String) => {
      if (a !== b) differences.push(`${path}: ${name} ${show(a)}, got ${show(b)}`);
    };
    if (w.type !== 'symlink') field('mode', w.mode, g.mode, (m) => `0${Number(m).toString(8)}`);
    if (options.owners) {
      field('uid', w.uid, g.uid);
      field('gid', w.gid, g.gid);
    }
    if (w.type === 'file') {
      field('size', w.size, g.size);
      field('sha256', w.sha256, g.sha256);
      field('mtime', w.mtime, g.mtime, (t) => new Date(Number(t) * 1000).toISOString());
    }
    if (w.type === 'dir' && options.dirMtimes) {
      field('mtime', w.mtime, g.mtime, (t) => new Date(Number(t) * 1000).toISOString());
    }
    if (options.xattrs) {
      field('xattrs', xattrKey(w.xattrs), xattrKey(g.xattrs));
    }
    if (w.type === 'symlink') field('target', w.target, g.target, (t) => JSON.stringify(t));
    if (w.type === 'char' || w.type === 'block') {
      field('devmajor', w.devmajor, g.devmajor);
      field('devminor', w.devminor, g.devminor);
    }
    const peers = (tree: ResolvedTree) =>
      (tree.groups.get(path) ?? [path]).filter((p) => want.entries.has(p) && got.entries.has(p)).join(', ');
    const [wantPeers, gotPeers] = [peers(want), peers(got)];
    if (wantPeers !== gotPeers && !reportedGroups.has(wantPeers)) {
      reportedGroups.add(wantPeers);
      differences.push(`${path}: one inode with [${wantPeers}], got one inode with [${gotPeers}]`);
    }
  }
  return differences;
}

/** Attributes in a stable order, byte strings shown with JSON escapes (`\\udcff` for a byte that is not UTF-8). */
function xattrKey(xattrs: Readonly<Record<string, string>> | undefined): string {
  return JSON.stringify(Object.entries(xattrs ?? {}).sort(([a], [b]) => byCodeUnits(a, b)));
}

interface LayerEntry {
  path: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  target?: string;
  sha256?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, string>;
}

type Inode = Omit<LayerEntry, 'path' | 'type'> & { type: Exclude<EntryType, 'hardlink'> };

/** What a path holds while layers are applied; names that are hardlinks of each other share `inode`. */
interface TreeNode {
  inode: Inode;
  /** Came from a hardlink entry rather than from the inode's own entry. */
  linked: boolean;
}

type Tree = Map<string, TreeNode>;

/** An entry of tar-stream's extract: a (streamx) readable of the entry's content. */
type Entry = Readable & { header: Header };

type MemberContent = { kind: 'json'; value: unknown } | { kind: 'layer'; entries: LayerEntry[] };

/** A save's member is JSON (manifests, index, config) or a layer tar, plain or gzip: told apart by its first bytes. */
async function readMember(member: Entry, name: string): Promise<MemberContent> {
  const chunks = member[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let ended = false;
  while (head.length < 512 && !ended) {
    const next = await chunks.next();
    if (next.done) ended = true;
    else head = Buffer.concat([head, next.value as Buffer]);
  }
  const whole = Readable.from(
    (async function* () {
      yield head;
      if (ended) return;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value as Buffer;
    })(),
  );
  if (name.endsWith('.json') || head[0] === 0x7b /* { */) {
    const parts: Buffer[] = [];
    await pipeline(whole, async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) parts.push(chunk);
    });
    return { kind: 'json', value: JSON.parse(Buffer.concat(parts).toString('utf8')) };
  }
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) {
    throw new Error(
      `image archive member ${name} is zstd-compressed, which Node 20 cannot read: save the image from an engine without the containerd image store`,
    );
  }
  const entries: LayerEntry[] = [];
  const collect = (items: AsyncIterable<Entry>) => collectLayerEntries(items, entries);
  if (head[0] === 0x1f && head[1] === 0x8b) await pipeline(whole, createGunzip(), extractEntries(), collect);
  else await pipeline(whole, extractEntries(), collect);
  return { kind: 'layer', entries };
}

async function collectLayerEntries(items: AsyncIterable<Entry>, entries: LayerEntry[]): Promise<void> {
  for await (const item of items) {
    const header = item.header;
    const type = layerEntryType(header.type, header.name);
    const pax = (header.pax ?? {}) as Record<string, string>;
    const xattrs = Object.fromEntries(
      Object.entries(pax)
        .filter(([key]) => key.startsWith('SCHILY.xattr.'))
        .map(([key, value]) => [key.slice('SCHILY.xattr.'.length), value]),
    );
    let sha256: string | undefined;
    if (type === 'file') {
      const hash = createHash('sha256');
      await pipeline(item, hash);
      sha256 = hash.digest('hex');
    } else {
      item.resume();
    }
    entries.push({
      path: normalizePath(header.name),
      type,
      mode: header.mode & 0o7777,
      // tar-stream applies PAX path, linkpath and size itself but leaves owners and mtime to the reader.
      uid: pax.uid ? Number(pax.uid) : header.uid,
      gid: pax.gid ? Number(pax.gid) : header.gid,
      size: type === 'file' ? header.size : 0,
      mtime: pax.mtime ? Math.floor(Number(pax.mtime)) : Math.floor(header.mtime.getTime() / 1000),
      ...(type === 'symlink' ? { target: header.linkname } : {}),
      ...(type === 'hardlink' ? { target: normalizePath(header.linkname) } : {}),
      ...(sha256 ? { sha256 } : {}),
      ...(type === 'char' || type === 'block'
        ? { devmajor: header.devmajor, devminor: header.devminor }
        : {}),
      ...(Object.keys(xattrs).length > 0 ? { xattrs } : {}),
    });
  }
}

/** tar-stream types extract() as a streamx Writable; it is also a readable of entries, as pipeline needs. */
function extractEntries(): Duplex {
  return tar.extract() as unknown as Duplex;
}

function layerEntryType(type: Header['type'], name: string): EntryType {
  switch (type) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'directory':
      return 'dir';
    case 'link':
      return 'hardlink';
    case 'symlink':
      return 'symlink';
    case 'fifo':
      return 'fifo';
    case 'character-device':
      return 'char';
    case 'block-device':
      return 'block';
    default:
      throw new Error(`layer entry ${name} has tar type ${type}, which no image layer should hold`);
  }
}

/** Layer member names in order, lowest first, from manifest.json (every engine writes it) or else the OCI index. */
function layerOrder(documents: Map<string, unknown>): string[] {
  const manifest = documents.get('manifest.json') as { Layers: string[] }[] | undefined;
  if (manifest) {
    if (manifest.length !== 1 || !manifest[0]) {
      throw new Error(`image archive holds ${manifest.length} images; save one image at a time`);
    }
    return manifest[0].Layers.map(normalizePath);
  }
  type OciDocument = {
    manifests?: { digest: string; platform?: { os?: string } }[];
    layers?: { digest: string }[];
  };
  const blob = (digest: string) => `blobs/${digest.replace(':', '/')}`;
  let document = documents.get('index.json') as OciDocument | undefined;
  while (document?.manifests) {
    // The containerd image store adds attestation manifests with the platform unknown/unknown.
    const chosen = document.manifests.find((m) => m.platform?.os !== 'unknown');
    document = chosen && (documents.get(blob(chosen.digest)) as OciDocument | undefined);
  }
  if (!document?.layers) {
    throw new Error('image archive has no manifest.json and no usable index.json: pass a docker save stream');
  }
  return document.layers.map((layer) => blob(layer.digest));
}

/**
 * Applies one layer: its whiteouts hide what lower layers left, then its entries are added in order. A
 * directory the layer needs as a parent but does not list keeps its lower metadata by the spec, or is
 * created 0755 root where no lower directory is (mtime 0: the epoch, as the fast method gives it). Engine
 * 20.10's overlay2 store creates every such directory 0755 root, its attributes replacing those of the lower
 * directory (measured), and a whiteout's folder too.
 */
function applyLayer(tree: Tree, entries: LayerEntry[], rules: LayerRules): void {
  const listedDirs = new Set(entries.filter((e) => e.type === 'dir').map((e) => e.path));
  const implied = new Set<string>();
  const implyParents = (path: string) => {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (listedDirs.has(dir) || implied.has(dir)) continue;
      implied.add(dir);
      if (rules === 'spec' && tree.get(dir)?.inode.type === 'dir') continue;
      if (tree.get(dir)?.inode.type !== 'dir') removeSubtree(tree, dir);
      tree.set(dir, {
        inode: { type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 },
        linked: false,
      });
    }
  };
  for (const entry of entries) {
    const base = posix.basename(entry.path);
    if (!base.startsWith('.wh.')) continue;
    const parent = parentOf(entry.path);
    if (base === '.wh..wh..opq') removeBelow(tree, parent);
    else if (!base.startsWith('.wh..wh.')) removeSubtree(tree, joinPath(parent, base.slice('.wh.'.length)));
    if (rules === 'overlay2') implyParents(entry.path);
  }
  for (const entry of entries) {
    if (entry.path === '' || posix.basename(entry.path).startsWith('.wh.')) continue;
    implyParents(entry.path);
    const { path, type, ...metadata } = entry;
    if (type === 'dir') {
      // A directory over a directory merges with it; over anything else it replaces it.
      if (tree.get(path)?.inode.type !== 'dir') removeSubtree(tree, path);
      tree.set(path, { inode: { ...metadata, type }, linked: false });
    } else if (type === 'hardlink') {
      const target = tree.get(entry.target ?? '');
      if (!target || target.inode.type === 'dir') {
        throw new Error(`layer hardlink ${path} points to ${entry.target}, which is no file in the image`);
      }
      removeSubtree(tree, path);
      // The engine chowns, chmods and touches the link's path, that is the shared inode (no chmod of symlinks).
      const inode = target.inode;
      inode.uid = entry.uid;
      inode.gid = entry.gid;
      if (inode.type !== 'symlink') {
        inode.mode = entry.mode;
        inode.mtime = entry.mtime;
      }
      tree.set(path, { inode, linked: true });
    } else {
      removeSubtree(tree, path);
      tree.set(path, { inode: { ...metadata, type }, linked: false });
    }
  }
}

function removeSubtree(tree: Tree, path: string): void {
  tree.delete(path);
  removeBelow(tree, path);
}

function removeBelow(tree: Tree, dir: string): void {
  const prefix = dir ? `${dir}/` : '';
  for (const path of tree.keys()) if (path.startsWith(prefix)) tree.delete(path);
}

/**
 * Turns nodes into entries. Names sharing an inode become one entry of the inode's type (preferably the
 * name the layer wrote it under, which a later layer may have deleted) and hardlinks to it.
 */
function materialize(tree: Tree): Map<string, TreeEntry> {
  const paths = [...tree.keys()].sort(byCodeUnits);
  const primary = new Map<Inode, string>();
  for (const path of paths) {
    const node = tree.get(path) as TreeNode;
    const current = primary.get(node.inode);
    if (current === undefined || (!node.linked && tree.get(current)?.linked)) primary.set(node.inode, path);
  }
  const result = new Map<string, TreeEntry>();
  for (const path of paths) {
    const { inode } = tree.get(path) as TreeNode;
    const first = primary.get(inode);
    if (inode.type !== 'dir' && first !== path) {
      const { mode, uid, gid, mtime } = inode;
      result.set(path, { path, type: 'hardlink', mode, uid, gid, size: 0, mtime, target: first });
    } else {
      const { type, ...metadata } = inode;
      result.set(path, { path, type, ...metadata });
    }
  }
  return result;
}

interface ResolvedTree {
  /** Hardlinks replaced by the entry they share an inode with (under their own path). */
  entries: Map<string, TreeEntry>;
  /** Path -> every path of its inode, sorted (absent: the path is alone). */
  groups: Map<string, string[]>;
}

function resolveLinks(tree: ReadonlyMap<string, TreeEntry | DiskEntry>): ResolvedTree {
  const entries = new Map<string, TreeEntry>();
  const keys = new Map<string, string>();
  for (const [path, entry] of tree) {
    let resolved: TreeEntry | undefined = entry;
    for (let hops = 0; resolved?.type === 'hardlink' && hops < 100; hops++)
      resolved = tree.get(resolved.target ?? '');
    if (!resolved || resolved.type === 'hardlink') {
      entries.set(path, entry); // a dangling hardlink stays one, and so differs from anything real
      continue;
    }
    entries.set(path, { ...resolved, path });
    if (!('ino' in entry)) keys.set(path, `path:${resolved.path}`);
    else if (entry.nlink > 1 && entry.type !== 'dir') keys.set(path, `ino:${entry.ino}`);
  }
  const members = new Map<string, string[]>();
  for (const [path, key] of keys) members.set(key, [...(members.get(key) ?? []), path]);
  const groups = new Map<string, string[]>();
  for (const [path, key] of keys) groups.set(path, (members.get(key) ?? [path]).sort(byCodeUnits));
  return { entries, groups };
}

/** Path relative to the image root: no leading `./` or `/`, no trailing `/`; the root itself is ''. */
function normalizePath(name: string): string {
  return posix.normalize(`/${name}`).replace(/^\/+|\/+$/g, '');
}

function parentOf(path: string): string {
  const dir = posix.dirname(path);
  return dir === '.' ? '' : dir;
}

function joinPath(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

type StatKind = Pick<
  BigIntStats,
  'isFile' | 'isDirectory' | 'isSymbolicLink' | 'isFIFO' | 'isCharacterDevice' | 'isBlockDevice'
>;

function diskType(stat: StatKind, path: string): Exclude<EntryType, 'hardlink'> {
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'dir';
  if (stat.isSymbolicLink()) return 'symlink';
  if (stat.isFIFO()) return 'fifo';
  if (stat.isCharacterDevice()) return 'char';
  if (stat.isBlockDevice()) return 'block';
  throw new Error(`${JSON.stringify(path)} is a socket, which no image holds: dump into an empty folder`);
}

/** glibc's gnu_dev_major and gnu_dev_minor. */
function deviceNumbers(rdev: bigint): { devmajor: number; devminor: number } {
  return {
    devmajor: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n)),
    devminor: Number((rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n)),
  };
}

async function fileSha256(path: Buffer): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}
