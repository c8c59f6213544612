import { createHash, randomUUID } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { MODERN_ROOT } from '../../scripts/lib/modern-engine.mjs';
import type { ExtractMethod } from '../../src/options.js';
import type { EngineName, TestEngine } from '../support/engines.js';
import type { DiskEntry } from '../support/image-tree.js';
import { type OracleTree, oracleDifferences } from '../support/oracle.js';

// Where an engine's own builder departs from the image spec, the article method's dump is what the engine
// gives (it copies the engine's merge of the image's layers). Each departure is one named function that
// turns the oracle's tree into what that engine gives, naming the entries, fields and values; the test
// then expects exactly the differences between the two, nothing looser. Measured on this machine, Dec 2026.
// The fast method reads the layers itself and has no deviation: it must equal the oracle everywhere.

export interface DeviationInput {
  readonly engine: TestEngine;
  readonly method: ExtractMethod;
  /** The test's name of the image (a key of the tables below). */
  readonly image: string;
  readonly tag: string;
  readonly oracle: OracleTree;
  /** What the run wrote: only the times in podmanStampWindow are read from it. */
  readonly dump?: ReadonlyMap<string, DiskEntry>;
}

type Tree = Map<string, DiskEntry>;

/** Folders a layer changes (adds, deletes or hides entries in) without listing them: facts of each image's layers. */
const UNLISTED_CHANGED_FOLDERS: Readonly<Record<string, readonly string[]>> = {
  edge: ['layers/implied-parent'],
  implied: ['etc', 'var'],
  opaque: ['o'],
};

/** Lower-layer entries a whiteout hides and a same-layer folder of the same name then brings back on overlayfs. */
const WHITED_OUT_THEN_RECREATED: Readonly<Record<string, readonly (readonly [string, DiskEntry['type']])[]>> =
  {
    'whiteout-redo': [
      ['d/old', 'file'],
      ['d/sub', 'dir'],
      ['d/sub/older', 'file'],
    ],
  };

/** Lower-layer entries a layer's root opaque marker hides. */
const HIDDEN_BY_ROOT_OPAQUE: Readonly<Record<string, readonly (readonly [string, DiskEntry['type']])[]>> = {
  'root-opaque': [
    ['low', 'dir'],
    ['low/file', 'file'],
    ['top-low', 'file'],
  ],
};

/** The differences a dump (and its manifest) of `image` on `engine` by `method` must show against the oracle. */
export async function expectedDeviation(
  input: DeviationInput,
): Promise<{ dump: string[]; manifest: string[] }> {
  if (input.method === 'fast') return { dump: [], manifest: [] };
  const tree: Tree = new Map(input.oracle.entries);
  await unlistedFoldersAsTheEngineMakesThem(input, tree);
  overlayKeepsLowerEntriesOfARecreatedFolder(input.image, tree);
  overlayIgnoresARootOpaqueMarker(input.image, tree);
  builderCopyDropsXattrs(input.engine.name, tree);
  const differences = oracleDifferences(input.oracle, tree);
  return { dump: differences, manifest: differences };
}

/**
 * A folder a layer changes without listing it: Engine 20.10's overlay2 and Podman's overlay storage make it
 * `root:root 0755` with the time the engine applied the layer (its load into the engine); Docker 26's
 * containerd applier keeps the lower folder's owner and mode but also stamps that time. The time is read
 * from the engine's own layer store, the only place it exists.
 */
async function unlistedFoldersAsTheEngineMakesThem(input: DeviationInput, tree: Tree): Promise<void> {
  const folders = UNLISTED_CHANGED_FOLDERS[input.image] ?? [];
  if (folders.length === 0) return;
  const applied = await engineMergeMtimes(input.engine, input.tag, folders);
  for (const path of folders) {
    const entry = tree.get(path) as DiskEntry;
    const owner = input.engine.name === 'docker-26-containerd' ? {} : { uid: 0, gid: 0, mode: 0o755 };
    const mtime = podmanStampWindow(input, applied.get(path) as number, input.dump?.get(path)?.mtime);
    tree.set(path, { ...entry, ...owner, mtime });
  }
}

/** Seconds after its layer store's own time that Podman's builder may stamp an unlisted folder. */
const PODMAN_STAMP_WINDOW_S = 2;

/**
 * Podman's builder stamps an unlisted folder when it applies the layer for the build, a moment after the time
 * its layer store shows (measured 0 to 1 s later, varying from run to run): a time in that window is the
 * engine's; any other is not, and stays a difference.
 */
function podmanStampWindow(input: DeviationInput, stored: number, seen: number | undefined): number {
  if (input.engine.name !== 'podman' || seen === undefined) return stored;
  return seen >= stored && seen <= stored + PODMAN_STAMP_WINDOW_S ? seen : stored;
}

/**
 * `.wh.d` followed by a new folder `d` in the same layer: overlayfs (under every engine here) makes the new
 * `d` a plain upper folder, not an opaque one, so the lower layer's `d/*` stay visible.
 */
function overlayKeepsLowerEntriesOfARecreatedFolder(image: string, tree: Tree): void {
  for (const [path, type] of WHITED_OUT_THEN_RECREATED[image] ?? []) tree.set(path, placeholder(path, type));
}

/** An opaque marker at a layer's root: overlayfs has no opaque root, so every lower entry stays visible. */
function overlayIgnoresARootOpaqueMarker(image: string, tree: Tree): void {
  for (const [path, type] of HIDDEN_BY_ROOT_OPAQUE[image] ?? []) tree.set(path, placeholder(path, type));
}

/**
 * The builder's `COPY --from` carries only `security.capability` on either Docker engine (20.10's overlay2
 * and 26's containerd store alike), and on Podman (buildah) that and the user namespace.
 */
function builderCopyDropsXattrs(engine: EngineName, tree: Tree): void {
  const survives = (name: string) =>
    name === 'security.capability' || (engine === 'podman' && name.startsWith('user.'));
  for (const [path, entry] of tree) {
    if (!entry.xattrs) continue;
    const kept = Object.entries(entry.xattrs).filter(([name]) => survives(name));
    const { xattrs: _dropped, ...rest } = entry;
    tree.set(path, kept.length > 0 ? { ...rest, xattrs: Object.fromEntries(kept) } : rest);
  }
}

/** An entry that is present where the oracle has none; compareTrees reports only its presence and type. */
function placeholder(path: string, type: DiskEntry['type']): DiskEntry {
  return { path, type, mode: 0, uid: 0, gid: 0, size: 0, mtime: 0, ino: 0n, nlink: 1 };
}

/**
 * The mtime of each path in the engine's own layer store: the topmost layer folder that holds it, as the
 * engine's overlay mount would show it (a container's merge would not do: its init layer stamps /etc).
 */
async function engineMergeMtimes(engine: TestEngine, image: string, paths: readonly string[]) {
  const mtimes = new Map<string, number>();
  await withLayerDirs(engine, image, async (dirs) => {
    for (const path of paths) {
      for (const dir of dirs) {
        const stat = await lstat(join(dir, path)).catch(() => undefined);
        if (!stat) continue;
        mtimes.set(path, Math.floor(stat.mtimeMs / 1000));
        break;
      }
      if (!mtimes.has(path)) throw new Error(`no layer of ${image} on ${engine.name} holds ${path}`);
    }
  });
  return mtimes;
}

/** The image's layer folders on the host, topmost first. */
async function withLayerDirs(engine: TestEngine, image: string, use: (dirs: string[]) => Promise<void>) {
  const inspect = await engine.docker.getImage(image).inspect();
  if (engine.name !== 'docker-26-containerd') {
    const data = inspect.GraphDriver.Data as { UpperDir?: string; LowerDir?: string };
    await use([data.UpperDir ?? '', ...(data.LowerDir ?? '').split(':')].filter(Boolean));
    return;
  }
  // The containerd store keeps layers as snapshots named by chain ID; a view of the top one lists them all.
  let chain = '';
  for (const diffId of inspect.RootFS.Layers ?? []) {
    chain = chain ? `sha256:${createHash('sha256').update(`${chain} ${diffId}`).digest('hex')}` : diffId;
  }
  const ctr = ['ctr', '-a', '/run/modern/exec/containerd/containerd.sock', '-n', 'moby', 'snapshots'];
  const key = `dc-fidelity-view-${randomUUID()}`;
  const { stdout } = await execa('chroot', [MODERN_ROOT, ...ctr, 'view', '--mounts', key, chain]);
  try {
    const options = (JSON.parse(stdout) as { Options: string[] }[])[0]?.Options ?? [];
    const lower = options.find((option) => option.startsWith('lowerdir='))?.slice('lowerdir='.length) ?? '';
    await use(lower.split(':').map((dir) => `${MODERN_ROOT}${dir}`));
  } finally {
    await execa('chroot', [MODERN_ROOT, ...ctr, 'rm', key]);
  }
}
