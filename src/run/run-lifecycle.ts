import type Docker from 'dockerode';
import { connectDocker, engineLost, pingEngine } from '../docker/client.js';
import { RunResources } from '../docker/run-resources.js';
import { InterruptedError } from '../errors.js';
import { commandName } from '../invocation.js';
import { RUN_LABEL, runLabels } from '../labels.js';

/** What a run's work gets: the engine, and the labels and tracker of everything it makes there. */
export interface Run {
  readonly docker: Docker;
  readonly resources: RunResources;
}

export interface RunLifecycleOptions {
  /** A dockerode client; by default one is made from DOCKER_HOST and friends. */
  readonly docker?: Docker | undefined;
  /** Extra labels for every container and image the run creates. */
  readonly labels: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal | undefined;
  readonly log: (line: string) => void;
  /** Keep the run's images (not its containers) when the work succeeds. */
  readonly keepImage: boolean;
  /** Runs once the engine has answered, before the work: e.g. removing an earlier killed run's debris. */
  readonly beforeWork?: ((docker: Docker) => Promise<void>) | undefined;
  /** Released in any case, before the engine's resources: e.g. a staging folder. */
  readonly release?: (() => Promise<void>) | undefined;
}

/**
 * The one lifecycle of a run that uses the engine: connect, ping, work, then remove everything the run made
 * whatever happened. An abort becomes an InterruptedError, an engine that stopped answering says so, and a
 * cleanup failure is reported without ever hiding the run's own error.
 */
export async function runLifecycle<T>(
  options: RunLifecycleOptions,
  work: (run: Run) => Promise<T>,
): Promise<T> {
  const { signal, log } = options;
  const resources = new RunResources(runLabels(options.labels));
  let docker: Docker | undefined;
  let failed = true;
  let touchedDocker = false;
  try {
    signal?.throwIfAborted();
    docker = options.docker ?? connectDocker();
    await pingEngine(docker, signal);
    touchedDocker = true;
    await options.beforeWork?.(docker);
    const result = await work({ docker, resources });
    failed = false;
    return result;
  } catch (error) {
    if (signal?.aborted) throw interrupted(signal.reason, error);
    // Only once the engine has answered can it have stopped answering "during the run".
    throw (touchedDocker && docker && (await engineLost(docker, error))) || error;
  } finally {
    const errors: unknown[] = [];
    if (options.release) await options.release().catch((error: unknown) => errors.push(error));
    if (touchedDocker && docker) {
      errors.push(...(await resources.remove(docker, { keepImage: options.keepImage && !failed })));
    }
    reportCleanup(errors, failed, log);
  }
}

/** A cleanup failure is reported, but never hides the run's own error. */
export function reportCleanup(
  errors: readonly unknown[],
  failed: boolean,
  log: (line: string) => void,
): void {
  if (errors.length === 0) return;
  const reasons = errors.map((error) => (error instanceof Error ? error.message : String(error))).join('; ');
  if (failed) {
    log(`warning: cleanup after the failure was incomplete: ${reasons}; run ${commandName('cleanup')}.`);
    return;
  }
  throw new AggregateError(errors, `Cleanup failed: ${reasons}; remove what is labelled ${RUN_LABEL}.`);
}

function interrupted(reason: unknown, cause: unknown): InterruptedError {
  if (reason instanceof InterruptedError) return reason;
  return new InterruptedError('abort', { cause });
}
