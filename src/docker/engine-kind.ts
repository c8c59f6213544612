import type Docker from 'dockerode';

/** Which engine answers the Docker API: they differ in ways the article's method must work around. */
export type EngineKind = 'docker' | 'podman';

const kinds = new WeakMap<Docker, Promise<EngineKind>>();

/** Podman's compatible API names itself in GET /version's components ("Podman Engine"); asked once per client. */
export function engineKind(docker: Docker): Promise<EngineKind> {
  let kind = kinds.get(docker);
  if (!kind) {
    kind = docker.version().then((version) => {
      const components = (version as { Components?: { Name?: string }[] }).Components ?? [];
      return components.some((component) => /podman/i.test(component.Name ?? '')) ? 'podman' : 'docker';
    });
    kinds.set(docker, kind);
    // A failed probe is not remembered: the next call asks again.
    kind.catch(() => kinds.delete(docker));
  }
  return kind;
}

const stores = new WeakMap<Docker, Promise<boolean>>();

/** Whether the engine keeps images in containerd's store (Docker 25+ with containerd-snapshotter). */
export function usesContainerdStore(docker: Docker): Promise<boolean> {
  let store = stores.get(docker);
  if (!store) {
    store = docker
      .info()
      .then((info: { DriverStatus?: [string, string][] | null }) =>
        (info.DriverStatus ?? []).some(([, value]) => value === 'io.containerd.snapshotter.v1'),
      );
    stores.set(docker, store);
    store.catch(() => stores.delete(docker));
  }
  return store;
}
