import { execa } from 'execa';
import { DockerError } from '../errors.js';
import { type AuthEntry, readCliConfig } from './cli-config.js';

/** The key under which the docker CLI stores Docker Hub's credentials (registry.IndexServer). */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

/** The engine's X-Registry-Auth document (API types/registry AuthConfig). */
export interface RegistryAuth {
  readonly username?: string;
  readonly password?: string;
  readonly identitytoken?: string;
  readonly serveraddress: string;
}

/** Credentials for one registry and where they came from, for messages. */
export interface ResolvedAuth {
  readonly auth: RegistryAuth;
  /** `config.json` path or `docker-credential-<helper>`. */
  readonly source: string;
}

/** The registry host a reference without one pulls from, named as users know it. */
export const DOCKER_HUB_HOST = 'docker.io';

/** Registry host for messages and `docker login`: `docker.io` for Docker Hub. */
export function registryHost(registry: string | undefined): string {
  return registry === undefined || isDockerHub(registry) ? DOCKER_HUB_HOST : registry;
}

/** The key the docker CLI files a registry's credentials under: Docker Hub's URL, else `host[:port]`. */
export function authKey(registry: string | undefined): string {
  return registry === undefined || isDockerHub(registry) ? DOCKER_HUB_AUTH_KEY : registry;
}

/**
 * The credentials `docker login` left for a registry, looked up as the docker CLI does
 * (cli/config/configfile): `credHelpers[key]`, else `credsStore`, run as `docker-credential-<name> get`;
 * else `auths[key]` in config.json. `DOCKER_AUTH_CONFIG` (a config.json's `{"auths": ...}` in the environment,
 * as CI systems set it) comes before all of them. Undefined means pull anonymously.
 */
export async function resolveRegistryAuth(
  registry: string | undefined,
  options: { env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {},
): Promise<ResolvedAuth | undefined> {
  const env = options.env ?? process.env;
  const key = authKey(registry);
  const inline = fromEnvironment(env.DOCKER_AUTH_CONFIG, key);
  if (inline) return inline;
  const { path, config } = readCliConfig(env, 'PULL_FAILED');
  const helper = config.credHelpers?.[key] || config.credsStore;
  if (helper) return fromHelper(helper, key, registryHost(registry), env, options.signal);
  const entry = config.auths?.[key] ?? legacyEntry(config.auths ?? {}, key);
  const auth = entry && fromEntry(entry, key, path);
  return auth && { auth, source: path };
}

function fromEnvironment(text: string | undefined, key: string): ResolvedAuth | undefined {
  if (!text) return undefined;
  let auths: Readonly<Record<string, AuthEntry>> | undefined;
  try {
    auths = (JSON.parse(text) as { auths?: Record<string, AuthEntry> }).auths;
  } catch (error) {
    throw new DockerError(
      'PULL_FAILED',
      `DOCKER_AUTH_CONFIG is not JSON (${(error as Error).message}); set it to a config.json's {"auths": {...}} or unset it.`,
      { cause: error },
    );
  }
  const entry = auths?.[key] ?? legacyEntry(auths ?? {}, key);
  const auth = entry && fromEntry(entry, key, 'DOCKER_AUTH_CONFIG');
  return auth && { auth, source: 'DOCKER_AUTH_CONFIG' };
}

function isDockerHub(registry: string): boolean {
  return registry === 'docker.io' || registry === 'index.docker.io';
}

/** Older CLIs filed credentials under a URL (`https://host/v1/`); the CLI still finds them by host. */
function legacyEntry(auths: Readonly<Record<string, AuthEntry>>, key: string): AuthEntry | undefined {
  for (const [url, entry] of Object.entries(auths)) {
    if (url.replace(/^https?:\/\//, '').split('/')[0] === key) return entry;
  }
  return undefined;
}

function fromEntry(entry: AuthEntry, key: string, path: string): RegistryAuth | undefined {
  let { username, password } = entry;
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) {
      throw new DockerError(
        'PULL_FAILED',
        `The login for ${key} in ${path} is not base64 of user:password; run docker login ${key} again.`,
      );
    }
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  if (entry.identitytoken) return { identitytoken: entry.identitytoken, serveraddress: key };
  // An empty entry is what `docker login` leaves in auths when a helper holds the secret.
  if (!username && !password) return undefined;
  return { username: username ?? '', password: password ?? '', serveraddress: key };
}

// docker-credential-helpers client.Get: this output means "no login", not a failure.
const NOT_FOUND = /credentials not found/i;

async function fromHelper(
  helper: string,
  key: string,
  host: string,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal | undefined,
): Promise<ResolvedAuth | undefined> {
  const program = `docker-credential-${helper}`;
  if (!/^[\w.-]+$/.test(helper)) {
    throw new DockerError(
      'PULL_FAILED',
      `Invalid credential helper name ${JSON.stringify(helper)} in config.json; fix credsStore/credHelpers.`,
    );
  }
  const result = await execa(program, ['get'], {
    input: key,
    env,
    extendEnv: false,
    reject: false,
    ...(signal && { cancelSignal: signal }),
  });
  signal?.throwIfAborted();
  const said = `${result.stdout}\n${result.stderr}`.trim();
  if (result.failed) {
    if (NOT_FOUND.test(said)) return undefined;
    const reason =
      (result as { code?: string }).code === 'ENOENT'
        ? `${program} is not on PATH`
        : said || result.shortMessage;
    throw new DockerError(
      'PULL_FAILED',
      `The credential helper ${program} could not give the login for ${host} (${reason}); fix the helper or credsStore/credHelpers in config.json, or run docker login ${host}.`,
      { cause: result },
    );
  }
  let answer: { Username?: unknown; Secret?: unknown };
  try {
    answer = JSON.parse(result.stdout) as typeof answer;
  } catch (error) {
    throw new DockerError(
      'PULL_FAILED',
      `The credential helper ${program} answered something other than JSON for ${host}; fix the helper or run docker login ${host}.`,
      { cause: error },
    );
  }
  const username = typeof answer.Username === 'string' ? answer.Username : '';
  const secret = typeof answer.Secret === 'string' ? answer.Secret : '';
  if (!username && !secret) return undefined;
  // The helpers protocol marks an identity token with this user name (docker/cli credentials/native_store.go).
  const auth =
    username === '<token>'
      ? { identitytoken: secret, serveraddress: key }
      : { username, password: secret, serveraddress: key };
  return { auth, source: program };
}
