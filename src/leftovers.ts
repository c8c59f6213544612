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
  /** A dockerode client; by default one is made from DOCKER_HOST and friends. */
  readonly docker?: Docker;
}

export interface LeftoverReport {
  readonly containers: readonly string[];
  readonly images: readonly string[];
  readonly folders: readonly string[];
}

/** Removes the containers, images and staging folders that interrupted runs of the tool left behind. */
export async function removeLeftovers(options: LeftoverOptions = {}): Promise<LeftoverReport> {
  const folders = await removeStagingFolders(
    options.dirs ?? [process.cwd()],
    options.sameFolderOnly ?? false,
  );
  const folderPids = new Set(folders.map((folder) => String(stagingPid(basename(folder)))));
  if (options.sameFolderOnly && folderPids.size === 0) return { containers: [], images: [], folders };
  const docker = options.docker ?? connectDocker();
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
    await removeContainer(docker, container.Id);
    containers.push(container.Id);
  }

  const images: string[] = [];
  const candidates = (await docker.listImages({ all: true, filters })).filter(
    (image) => wanted(image.Labels) && (options.includeKept || !isTagged(image)),
  );
  // Children first: a build's intermediate images carry the labels too, and go with their leaf.
  const parents = new Set(candidates.map((image) => image.ParentId));
  for (const image of candidates) {
    if (parents.has(image.Id)) continue;
    await removeImage(docker, image.Id);
    images.push(image.Id);
  }

  return { containers, images, folders };
}

async function removeStagingFolders(dirs: readonly string[], staleOnly: boolean): Promise<string[]> {
  const folders: string[] = [];
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
      await removeTree(path);
      folders.push(path);
    }
  }
  return folders;
}

function isTagged(image: Docker.ImageInfo): boolean {
  return (image.RepoTags ?? []).some((tag) => tag !== '<none>:<none>');
}
