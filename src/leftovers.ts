import { readdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type Docker from 'dockerode';
import { connectDocker } from './docker/client.js';
import { removeContainer, removeImage } from './docker/container.js';
import { removeTree, STAGING_PREFIX, stagingPid } from './extract/output-folder.js';
import { isAlive, isStaleRun, RUN_LABEL, TOOL_LABEL } from './labels.js';

/** Options of {@link removeLeftovers}. */
export interface LeftoverOptions {
  /**
   * Folders to search for staging folders (`.distroless-contents-staging-*`).
   * @default [process.cwd()]
   */
  readonly dirs?: readonly string[];
  /**
   * Only containers and images of runs whose staging folder is found stale in `dirs`: what the next run
   * into the same folder may safely remove, whatever other runs share the engine. Without it, everything
   * the tool made goes, except what runs still alive on this host are using.
   * @default false
   */
  readonly sameFolderOnly?: boolean;
  /**
   * Also remove tagged images: those kept on purpose (`--keep-image`, the build cache).
   * @default false
   */
  readonly includeKept?: boolean;
  /**
   * Remove nothing: only report what would go, and why.
   * @default false
   */
  readonly dryRun?: boolean;
  /** A dockerode client; by default one is made from DOCKER_HOST and friends. */
  readonly docker?: Docker;
}

export interface LeftoverReport {
  /** IDs (or, for folders, paths) of what was removed, or with `dryRun` would be. */
  readonly containers: readonly string[];
  readonly images: readonly string[];
  readonly folders: readonly string[];
  /** Each of them with the reason it is a leftover, in the same order. */
  readonly items: readonly Leftover[];
}

export interface Leftover {
  readonly kind: 'container' | 'image' | 'folder';
  /** The ID, or the folder's path. */
  readonly id: string;
  /** The run's label, `<host>/<pid>/<uuid>`, where there is one. */
  readonly run?: string;
  /** One line: whose run, which host, why it is over. */
  readonly reason: string;
}

/** Removes the containers, images and staging folders that interrupted runs of the tool left behind. */
export async function removeLeftovers(options: LeftoverOptions = {}): Promise<LeftoverReport> {
  const dryRun = options.dryRun ?? false;
  const folderItems = await removeStagingFolders(
    options.dirs ?? [process.cwd()],
    options.sameFolderOnly ?? false,
    dryRun,
  );
  const folders = folderItems.map((item) => item.id);
  const folderPids = new Set(folders.map((folder) => String(stagingPid(basename(folder)))));
  if (options.sameFolderOnly && folderPids.size === 0)
    return { containers: [], images: [], folders, items: folderItems };
  const docker = options.docker ?? connectDocker();
  const items: Leftover[] = [];
  const wanted = (labels: Record<string, string> | undefined) => {
    const run = labels?.[RUN_LABEL];
    if (options.sameFolderOnly) return isStaleRun(run) && folderPids.has(run?.split('/')[1] ?? '');
    const [host, pid] = (run ?? '').split('/');
    return !(
      host === hostname() &&
      /^\d+$/.test(pid ?? '') &&
      Number(pid) !== process.pid &&
      isAlive(Number(pid))
    );
  };
  const filters = JSON.stringify({ label: [TOOL_LABEL] });

  const containers: string[] = [];
  for (const container of await docker.listContainers({ all: true, filters })) {
    if (!wanted(container.Labels)) continue;
    if (!dryRun) await removeContainer(docker, container.Id);
    containers.push(container.Id);
    items.push(resourceItem('container', container.Id, container.Labels));
  }

  const images: string[] = [];
  const candidates = (await docker.listImages({ all: true, filters })).filter(
    (image) => wanted(image.Labels) && (options.includeKept || !isTagged(image)),
  );
  // Children first: a build's intermediate images carry the labels too, and go with their leaf.
  const parents = new Set(candidates.map((image) => image.ParentId));
  for (const image of candidates) {
    if (parents.has(image.Id)) continue;
    if (!dryRun) await removeImage(docker, image.Id);
    images.push(image.Id);
    items.push(resourceItem('image', image.Id, image.Labels));
  }

  return { containers, images, folders, items: [...items, ...folderItems] };
}

function resourceItem(
  kind: 'container' | 'image',
  id: string,
  labels: Record<string, string> | undefined,
): Leftover {
  const run = labels?.[RUN_LABEL];
  return { kind, id, ...(run !== undefined && { run }), reason: runReason(run) };
}

/** Why a run's resource is taken: its process is gone, or it cannot be checked from here. */
function runReason(run: string | undefined): string {
  if (run === undefined) return `no ${RUN_LABEL} label: made by a run of an older version`;
  const [host, pid] = run.split('/');
  if (host !== hostname())
    return `run ${run}: made on host ${host}, whose processes cannot be checked from ${hostname()}`;
  if (!/^\d+$/.test(pid ?? '')) return `run ${run}: no process id in its label`;
  if (Number(pid) === process.pid) return `run ${run}: this process's own`;
  return `run ${run}: process ${pid} on this host is gone`;
}

async function removeStagingFolders(
  dirs: readonly string[],
  staleOnly: boolean,
  dryRun: boolean,
): Promise<Leftover[]> {
  const folders: Leftover[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    for (const name of names) {
      if (!name.startsWith(STAGING_PREFIX)) continue;
      const pid = stagingPid(name);
      const stale = pid === undefined ? !staleOnly : pid !== process.pid && !isAlive(pid);
      if (!stale) continue;
      const path = resolve(join(dir, name));
      if (!dryRun) await removeTree(path);
      folders.push({
        kind: 'folder',
        id: path,
        reason:
          pid === undefined
            ? 'staging folder without a process id in its name'
            : `staging folder of process ${pid} on this host, which is gone`,
      });
    }
  }
  return folders;
}

function isTagged(image: Docker.ImageInfo): boolean {
  return (image.RepoTags ?? []).some((tag) => tag !== '<none>:<none>');
}
