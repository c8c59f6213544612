import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerError } from '../errors.js';
import { cliConfigDir, readCliConfig } from './cli-config.js';

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';
export const DEFAULT_CONTEXT = 'default';

/** TLS material for a tcp endpoint; absent files fall back to Node's defaults (system CAs, no client cert). */
export interface EndpointTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  /** False for DOCKER_TLS without DOCKER_TLS_VERIFY, or a context with SkipTLSVerify. */
  readonly verify: boolean;
}

/** Where the docker CLI would send its requests, and why. */
export interface EngineEndpoint {
  /** `unix:///path`, `tcp://host:port` or `ssh://[user@]host[:port]`. */
  readonly host: string;
  /** The docker context in use: `default` unless DOCKER_CONTEXT or config.json's currentContext names one. */
  readonly context: string;
  /** What chose it. */
  readonly from: 'DOCKER_HOST' | 'DOCKER_CONTEXT' | 'currentContext' | 'default';
  readonly tls?: EndpointTls;
}

/**
 * Picks the engine as the docker CLI does (cli/command/cli.go resolveContextName): DOCKER_HOST wins, then
 * DOCKER_CONTEXT, then `currentContext` in config.json; the `default` context is DOCKER_HOST or the default
 * socket, with DOCKER_TLS_VERIFY / DOCKER_TLS / DOCKER_CERT_PATH.
 */
export function resolveEndpoint(env: NodeJS.ProcessEnv = process.env): EngineEndpoint {
  if (env.DOCKER_HOST) return defaultContext(env, 'DOCKER_HOST');
  let name = env.DOCKER_CONTEXT;
  let from: EngineEndpoint['from'] = 'DOCKER_CONTEXT';
  if (!name) {
    name = readCliConfig(env, 'ENGINE_UNREACHABLE').config.currentContext;
    from = 'currentContext';
  }
  if (!name || name === DEFAULT_CONTEXT) return defaultContext(env, name ? from : 'default');
  return namedContext(env, name, from);
}

/** One line naming the endpoint for messages: `tcp://127.0.0.1:2376 (docker context "ci", from DOCKER_CONTEXT)`. */
export function describeEndpoint(endpoint: EngineEndpoint): string {
  if (endpoint.context === DEFAULT_CONTEXT) {
    return endpoint.from === 'DOCKER_HOST' ? `${endpoint.host} (DOCKER_HOST)` : endpoint.host;
  }
  return `${endpoint.host} (docker context "${endpoint.context}", from ${endpoint.from})`;
}

function defaultContext(env: NodeJS.ProcessEnv, from: EngineEndpoint['from']): EngineEndpoint {
  const verify = Boolean(env.DOCKER_TLS_VERIFY);
  const host = normalizeHost(env.DOCKER_HOST || DEFAULT_DOCKER_HOST, verify || Boolean(env.DOCKER_TLS));
  if (!host.startsWith('tcp://') || !(verify || env.DOCKER_TLS))
    return { host, context: DEFAULT_CONTEXT, from };
  // As the CLI: files missing from the default folder (~/.docker) are left out; from DOCKER_CERT_PATH, an error.
  const tls = env.DOCKER_CERT_PATH
    ? readTlsFolder(env.DOCKER_CERT_PATH, verify, 'DOCKER_CERT_PATH')
    : readTlsFolder(cliConfigDir(env), verify);
  return { host, context: DEFAULT_CONTEXT, from, tls };
}

interface ContextMeta {
  readonly Endpoints?: { readonly docker?: { readonly Host?: string; readonly SkipTLSVerify?: boolean } };
}

function namedContext(env: NodeJS.ProcessEnv, name: string, from: EngineEndpoint['from']): EngineEndpoint {
  // The context store names each context's folder by the sha256 of its name (docker/cli context/store).
  const id = createHash('sha256').update(name).digest('hex');
  const contexts = join(cliConfigDir(env), 'contexts');
  const metaPath = join(contexts, 'meta', id, 'meta.json');
  const fix = `run docker context ls, or ${from === 'DOCKER_CONTEXT' ? 'unset DOCKER_CONTEXT' : 'docker context use default'}`;
  let meta: ContextMeta;
  try {
    meta = JSON.parse(readFileSync(metaPath, 'utf8')) as ContextMeta;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new DockerError(
      'ENGINE_UNREACHABLE',
      `Docker context "${name}" (from ${from}) ${missing ? `does not exist: no ${metaPath}` : `cannot be read from ${metaPath}: ${(error as Error).message}`}; ${fix}.`,
      { cause: error },
    );
  }
  const endpoint = meta.Endpoints?.docker;
  if (!endpoint?.Host) {
    throw new DockerError(
      'ENGINE_UNREACHABLE',
      `Docker context "${name}" (from ${from}) has no docker endpoint host in ${metaPath}; ${fix}.`,
    );
  }
  const tlsDir = join(contexts, 'tls', id, 'docker');
  const files = readTlsFolder(tlsDir, !endpoint.SkipTLSVerify);
  const hasMaterial = files.ca !== undefined || files.cert !== undefined || files.key !== undefined;
  const host = normalizeHost(endpoint.Host, hasMaterial || Boolean(endpoint.SkipTLSVerify));
  // As the CLI (context/docker/load.go): TLS when the context stores TLS material or skips verification.
  const tls = host.startsWith('tcp://') && (hasMaterial || endpoint.SkipTLSVerify) ? files : undefined;
  return { host, context: name, from, ...(tls && { tls }) };
}

/**
 * A tcp host without a port gets the CLI's default port (2376 with TLS, else 2375). Unlike the CLI, a value
 * without a scheme is refused: `DOCKER_HOST=bogus` would otherwise be read as tcp://bogus:2375 in silence.
 */
function normalizeHost(raw: string, tls: boolean): string {
  const separator = raw.indexOf('://');
  if (separator < 0) {
    const guess = /^[\w.-]+:\d+$/.test(raw) ? ` (tcp://${raw}?)` : '';
    throw new DockerError(
      'ENGINE_UNREACHABLE',
      `Docker host ${JSON.stringify(raw)} is not a URL${guess}: use unix:///path, tcp://host:port or ssh://user@host.`,
    );
  }
  const host = raw;
  const scheme = host.slice(0, separator);
  if (!['unix', 'tcp', 'ssh'].includes(scheme)) {
    throw new DockerError(
      'ENGINE_UNREACHABLE',
      `Unsupported Docker host ${JSON.stringify(raw)}: use unix:///path, tcp://host:port or ssh://user@host.`,
    );
  }
  if (scheme !== 'tcp') return host;
  let url: URL;
  try {
    url = new URL(host);
  } catch (error) {
    throw new DockerError(
      'ENGINE_UNREACHABLE',
      `Invalid Docker host ${JSON.stringify(raw)}: expected tcp://host:port.`,
      { cause: error },
    );
  }
  return `tcp://${url.hostname || '127.0.0.1'}:${url.port || (tls ? '2376' : '2375')}`;
}

/** Reads ca.pem, cert.pem and key.pem; a missing one is left out unless `required` names where `dir` came from. */
function readTlsFolder(dir: string, verify: boolean, required?: string): EndpointTls {
  const read = (name: string) => {
    const path = join(dir, name);
    try {
      return readFileSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !required) return undefined;
      const fix = required ? `; put ca.pem, cert.pem and key.pem there or fix ${required}` : '';
      throw new DockerError(
        'ENGINE_UNREACHABLE',
        `Cannot read the TLS file ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})${fix}.`,
        { cause: error },
      );
    }
  };
  const ca = read('ca.pem');
  const cert = read('cert.pem');
  const key = read('key.pem');
  return { verify, ...(ca && { ca }), ...(cert && { cert }), ...(key && { key }) };
}
