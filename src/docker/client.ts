import { Agent } from 'node:https';
import { createRequire } from 'node:module';
import type Docker from 'dockerode';
import { DockerError } from '../errors.js';
import { runFromClone } from '../invocation.js';
import { DEFAULT_DOCKER_HOST, describeEndpoint, type EngineEndpoint, resolveEndpoint } from './context.js';

/** Where the docker CLI would connect (DOCKER_HOST, else DOCKER_CONTEXT, else config.json's currentContext), in words. */
export function engineEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  try {
    return describeEndpoint(resolveEndpoint(env));
  } catch {
    // Only for messages: connectDocker has reported the broken configuration already.
    return env.DOCKER_HOST || DEFAULT_DOCKER_HOST;
  }
}

const endpoints = new WeakMap<Docker, EngineEndpoint>();

// Loaded when first needed: dockerode brings gRPC and SSH clients along (about 20 MiB and 0.1 s at start),
// which a dump from a registry, a layout or an archive never uses.
const requireCjs = createRequire(import.meta.url);
const Dockerode = (): typeof Docker => requireCjs('dockerode') as typeof Docker;

/** A client for the engine the docker CLI would use; see {@link resolveEndpoint}. */
export function connectDocker(env: NodeJS.ProcessEnv = process.env): Docker {
  const endpoint = resolveEndpoint(env);
  const Client = Dockerode();
  let docker: Docker;
  try {
    docker = new Client(dockerOptions(endpoint, env));
  } catch (error) {
    // dockerode reads DOCKER_CERT_PATH's files whenever DOCKER_HOST is tcp, even where TLS is off.
    throw new DockerError(
      'ENGINE_UNREACHABLE',
      `Cannot set up the Docker client for ${describeEndpoint(endpoint)} (${(error as Error).message}); check DOCKER_CERT_PATH or unset it.`,
      { cause: error },
    );
  }
  endpoints.set(docker, endpoint);
  return docker;
}

/**
 * dockerode options for an endpoint. Every connection option is set, even to undefined, because dockerode
 * merges what it reads from DOCKER_HOST and friends under the options it is given.
 */
export function dockerOptions(
  endpoint: EngineEndpoint,
  env: NodeJS.ProcessEnv = process.env,
): Docker.DockerOptions {
  const none = { socketPath: undefined, host: undefined, port: undefined, username: undefined };
  const tlsNone = { ca: undefined, cert: undefined, key: undefined };
  const url = new URL(endpoint.host);
  if (url.protocol === 'unix:') return { ...none, ...tlsNone, socketPath: url.pathname, protocol: undefined };
  if (url.protocol === 'ssh:') {
    return {
      ...none,
      ...tlsNone,
      protocol: 'ssh',
      host: url.hostname,
      port: url.port || '22',
      username: decodeURIComponent(url.username) || undefined,
      sshOptions: { agent: env.SSH_AUTH_SOCK },
    };
  }
  const tcp = { ...none, host: url.hostname, port: url.port };
  const tls = endpoint.tls;
  if (!tls) return { ...tcp, ...tlsNone, protocol: 'http' };
  return {
    ...tcp,
    protocol: 'https',
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    // docker-modem has no switch for this; an agent's options override the request's.
    ...(!tls.verify && { agent: new Agent({ rejectUnauthorized: false }) }),
  } as Docker.DockerOptions;
}

/** Fails with a clear line when no engine answers, naming where it looked and how to start one. */
export async function pingEngine(docker: Docker, signal?: AbortSignal): Promise<void> {
  try {
    await docker.ping();
  } catch (error) {
    signal?.throwIfAborted();
    const where = describeKnown(docker);
    const fromHost = endpoints.get(docker)?.from === 'DOCKER_HOST';
    const status = statusCode(error);
    if (status !== undefined && status < 500) {
      // An engine answers its ping with 200 (or a 5xx when broken): this is a wrong port or another service.
      throw new DockerError(
        'ENGINE_UNREACHABLE',
        `What answers at ${where} is not a Docker engine (HTTP ${status} to GET /_ping); point ${fromHost ? 'DOCKER_HOST' : 'DOCKER_HOST or the docker context'} at an engine.`,
        { cause: error },
      );
    }
    throw new DockerError(
      'ENGINE_UNREACHABLE',
      `No Docker engine answers at ${where} (${describeError(error)}); start one (for example: sudo dockerd${runFromClone() ? ', or npm run engine' : ''})${fromHost ? ' there, or fix DOCKER_HOST' : ' or set DOCKER_HOST'}.`,
      { cause: error },
    );
  }
}

function describeKnown(docker: Docker): string {
  const endpoint = endpoints.get(docker);
  return endpoint ? describeEndpoint(endpoint) : engineEndpoint();
}

/** Errors of a connection to the engine that broke or can no longer be made. */
const CONNECTION_LOST = /ECONNRESET|ECONNREFUSED|EPIPE|ENOENT|socket hang up/;

/**
 * When `error` comes from a connection to the engine that broke, and the engine no longer answers, the one
 * line that says so (the low-level words alone, "read ECONNRESET", say neither what broke nor what to do).
 */
export async function engineLost(docker: Docker, error: unknown): Promise<DockerError | undefined> {
  let lowLevel = false;
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (CONNECTION_LOST.test(describeError(cause))) lowLevel = true;
  }
  if (!lowLevel) return undefined;
  const answers = await docker.ping().then(
    () => true,
    () => false,
  );
  if (answers) return undefined;
  const reason = error instanceof Error ? error.message : String(error);
  return new DockerError(
    'ENGINE_UNREACHABLE',
    `The Docker engine at ${describeKnown(docker)} stopped answering during the run (${reason}); check it (docker info), then retry.`,
    { cause: error },
  );
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
