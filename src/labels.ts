import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/** Every container and image the tool creates carries this label, so leftovers can be found: `docker ps -a --filter label=dev.distroless-contents.tool`. */
export const TOOL_LABEL = 'dev.distroless-contents.tool';
/**
 * A per-run id, `<host>/<pid>/<uuid>`: concurrent runs never touch each other's resources, and a run's
 * leftovers are known to be stale once its process on that host is gone (killed with SIGKILL, say).
 */
export const RUN_LABEL = 'dev.distroless-contents.run';

export const TOOL_NAME = 'distroless-contents';

/** The run's labels: all set by the generated Dockerfile's first step (one LABEL), so every later step's image carries them. */
export function runLabels(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return { ...extra, [TOOL_LABEL]: TOOL_NAME, [RUN_LABEL]: `${hostname()}/${process.pid}/${randomUUID()}` };
}

/** Whether the run that made a resource is over: its process on this host is gone. Unknown (other host, old format) is not stale. */
export function isStaleRun(runLabel: string | undefined): boolean {
  const [host, pid] = (runLabel ?? '').split('/');
  if (host !== hostname() || !pid || !/^\d+$/.test(pid)) return false;
  return !isAlive(Number(pid));
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
