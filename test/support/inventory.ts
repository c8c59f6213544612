import type Docker from 'dockerode';

/**
 * Everything an engine holds that a run could leave behind: every container (stopped ones too), every image
 * (dangling and intermediate ones too, as `docker images -a`), every volume, and the build cache (BuildKit's;
 * the legacy builder has none). Taken on an engine the test file owns, so no parallel test blurs it.
 */
export interface Inventory {
  readonly containers: readonly string[];
  readonly images: readonly string[];
  readonly volumes: readonly string[];
  readonly buildCache: readonly string[];
  /** With the containerd image store: containerd's own snapshots and leases, which the engine API does not list. */
  readonly snapshots?: readonly string[];
  readonly leases?: readonly string[];
}

/** What a containerd store holds below the engine's view; for an engine of the classic store, nothing. */
export type StoreInventory = () => Promise<Pick<Inventory, 'snapshots' | 'leases'>>;

export async function takeInventory(docker: Docker, store?: StoreInventory): Promise<Inventory> {
  const [containers, images, volumes, usage, below] = await Promise.all([
    docker.listContainers({ all: true }),
    docker.listImages({ all: true }),
    docker.listVolumes(),
    docker.df() as Promise<{ BuildCache?: { ID: string; Description?: string }[] | null }>,
    store?.() ?? {},
  ]);
  return {
    containers: containers
      .map((c) => `${c.Id.slice(0, 12)} ${c.State} ${c.Image} ${c.Names.join(',')}`)
      .sort(),
    images: images
      .map(
        (i) => `${i.Id.replace(/^sha256:/, '').slice(0, 12)} ${(i.RepoTags ?? ['<none>:<none>']).join(',')}`,
      )
      .sort(),
    volumes: (volumes.Volumes ?? []).map((v) => v.Name).sort(),
    buildCache: (usage.BuildCache ?? []).map((entry) => `${entry.ID} ${entry.Description ?? ''}`).sort(),
    ...below,
  };
}

/** What `after` holds that `before` did not, for messages. */
export function added(before: Inventory, after: Inventory): string[] {
  return (Object.keys(after) as (keyof Inventory)[]).flatMap((kind) =>
    (after[kind] ?? []).filter((item) => !before[kind]?.includes(item)).map((item) => `${kind}: ${item}`),
  );
}
