import Docker from 'dockerode';
import { DockerError } from '../errors.js';

/** Where dockerode will connect: DOCKER_HOST when set, else the default socket. Docker contexts are not read. */
export function engineEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

export function connectDocker(): Docker {
  // dockerode reads DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH itself.
  return new Docker();
}

/** Fails with a clear line when no engine answers, naming where it looked and how to start one. */
export async function pingEngine(docker: Docker, signal?: AbortSignal): Promise<void> {
  try {
    await docker.ping();
  } catch (error) {
    signal?.throwIfAborted();
    throw new DockerError(
      'ENGINE_UNREACHABLE',
      `No Docker engine answers at ${engineEndpoint()} (${describeError(error)}); start one (for example: sudo dockerd, or npm run engine) or set DOCKER_HOST.`,
      { cause: error },
    );
  }
}

/** The daemon's own words for a failed request: the JSON body's message, not dockerode's generic status text. */
export function daemonMessage(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const json = (error as { json?: unknown }).json;
    if (
      typeof json === 'object' &&
      json !== null &&
      typeof (json as { message?: unknown }).message === 'string'
    ) {
      return (json as { message: string }).message.trim();
    }
    if (typeof json === 'string' && json.trim()) {
      try {
        const parsed: unknown = JSON.parse(json);
        if (typeof parsed === 'object' && parsed !== null && 'message' in parsed)
          return String(parsed.message).trim();
      } catch {
        return json.trim();
      }
    }
  }
  // Streamed endpoints (pull, build) leave no JSON body: dockerode only folds the daemon's words into its
  // own "(HTTP code 500) server error - ..." text.
  const folded = /^\(HTTP code \d+\) [^-]*- (.*)$/s.exec(describeError(error))?.[1]?.trim();
  return folded || describeError(error);
}

export function statusCode(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
