import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { Agent, IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ResolvedAuth, resolveRegistryAuth } from '../docker/credentials.js';
import {
  basicAuthorization,
  type Challenge,
  parseChallenges,
  tokenOf,
  tokenRequest,
} from './registry-auth.js';
import { CERTS_D, isLoopbackRegistry, registryAgents } from './registry-endpoint.js';
import {
  isTlsFailure,
  isTransient,
  isTransientStatus,
  isUnreachable,
  readText,
  send,
} from './registry-http.js';
import { type RegistrySource, registryImageName } from './registry-reference.js';
import { SourceError } from './source-error.js';
import { DigestMismatchError } from './verify-digest.js';

export interface RegistryClientOptions {
  /** undefined: the engine's rule (loopback registries insecure); false: no certificate check, HTTP allowed. */
  readonly tlsVerify?: boolean | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly signal: AbortSignal;
}

/** Tries of one request before a transient failure (429, 5xx, a reset or cut stream) is the run's error. */
const TRIES = 5;
const FIRST_BACKOFF_MS = 200;
const MAX_RETRY_AFTER_MS = 10_000;
const MAX_REDIRECTS = 5;
/** The distribution registry refuses manifests over 4 MiB; anything larger is not one. */
const MAX_MANIFEST = 4 * 1024 * 1024;
const MAX_CONFIG = 16 * 1024 * 1024;
const ERROR_BODY = 4096;

/** Docker Hub's API lives on another host than the one users name. */
function apiHost(registry: string): string {
  return registry === 'docker.io' ? 'registry-1.docker.io' : registry;
}

/**
 * A pull-only client of one repository over the OCI distribution API: finds the scheme (HTTPS, or plain
 * HTTP where the engine would allow it), logs in as the docker CLI does when the registry challenges
 * (Basic, or a Bearer token fetched once for the run's scope), retries what may pass on a second try, and
 * says every failure as one line that names the registry, the image and what to do.
 */
export class RegistryClient {
  readonly image: string;
  readonly #source: RegistrySource;
  readonly #origin: string;
  readonly #agent: Agent;
  /** For other origins (a blob store a registry redirects to, a token server): by scheme. */
  readonly #elsewhere: { readonly https: Agent; readonly http: Agent };
  readonly #env: NodeJS.ProcessEnv;
  readonly #signal: AbortSignal;
  #challenge: Challenge | undefined;
  #login: Promise<ResolvedAuth | undefined> | undefined;
  #authorization: string | undefined;

  private constructor(
    source: RegistrySource,
    origin: string,
    agents: { main: Agent; elsewhere: { https: Agent; http: Agent } },
    challenge: Challenge | undefined,
    options: RegistryClientOptions,
  ) {
    this.image = registryImageName(source);
    this.#source = source;
    this.#origin = origin;
    this.#agent = agents.main;
    this.#elsewhere = agents.elsewhere;
    this.#challenge = challenge;
    this.#env = options.env ?? process.env;
    this.#signal = options.signal;
  }

  /** Pings `/v2/` to find the scheme and the registry's challenge, as the engine does before a pull. */
  static async open(source: RegistrySource, options: RegistryClientOptions): Promise<RegistryClient> {
    const host = apiHost(source.registry);
    const insecure =
      options.tlsVerify === false || (options.tlsVerify === undefined && (await isLoopbackRegistry(host)));
    const agents = registryAgents(host, insecure);
    const ping = async (origin: string, agent: Agent) => {
      const response = await send(new URL('/v2/', origin), {
        agent,
        signal: options.signal,
        env: options.env,
      });
      const header = response.headers['www-authenticate'];
      response.resume();
      const challenges = response.statusCode === 401 && header ? parseChallenges(String(header)) : [];
      return challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
    };
    const made = (origin: string, agent: Agent, challenge: Challenge | undefined) =>
      new RegistryClient(source, origin, { main: agent, elsewhere: agents }, challenge, options);
    try {
      return made(`https://${host}`, agents.https, await ping(`https://${host}`, agents.https));
    } catch (error) {
      options.signal.throwIfAborted();
      // An insecure registry (the engine's loopback rule, or --tls-verify=false) may speak plain HTTP.
      if (insecure && !isUnreachable(error)) {
        try {
          return made(`http://${host}`, agents.http, await ping(`http://${host}`, agents.http));
        } catch (plain) {
          options.signal.throwIfAborted();
          throw pingError(source.registry, plain);
        }
      }
      throw pingError(source.registry, error);
    }
  }

  /** A manifest or index by tag or digest, its bytes and digest (checked when pulled by digest). */
  async manifest(
    reference: string,
    accept: readonly string[],
  ): Promise<{ bytes: Buffer; mediaType: string; digest: string }> {
    const what = `the manifest ${reference}`;
    const response = await this.#get(`manifests/${reference}`, { accept: accept.join(', ') }, what);
    const bytes = await this.#body(response, MAX_MANIFEST, what);
    const mediaType =
      String(response.headers['content-type'] ?? '')
        .split(';')[0]
        ?.trim() ?? '';
    const byDigest = /^[a-z0-9]+:/.test(reference);
    const algorithm = byDigest ? (reference.split(':')[0] as string) : 'sha256';
    const digest = `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
    if (byDigest && digest !== reference) {
      throw new DigestMismatchError(
        `${this.image}: the registry ${this.#source.registry} sent a manifest whose digest is ${digest}, not the ${reference} asked for; nothing was written`,
      );
    }
    const stated = response.headers['docker-content-digest'];
    if (!byDigest && typeof stated === 'string' && stated.startsWith('sha256:') && stated !== digest) {
      throw new DigestMismatchError(
        `${this.image}: the registry ${this.#source.registry} sent a manifest whose digest is ${digest}, not the ${stated} its Docker-Content-Digest header says; nothing was written`,
      );
    }
    return { bytes, mediaType, digest };
  }

  /** A small blob (the image config) in memory, checked against its digest. */
  async smallBlob(digest: string, what: string): Promise<Buffer> {
    const response = await this.#get(`blobs/${digest}`, {}, what);
    const bytes = await this.#body(response, MAX_CONFIG, what);
    const [algorithm = 'sha256', expected] = digest.split(':');
    const actual = createHash(algorithm).update(bytes).digest('hex');
    if (actual !== expected) {
      throw new DigestMismatchError(
        `${what} of ${this.image} is corrupt: its ${algorithm} is ${actual}, not ${expected}`,
      );
    }
    return bytes;
  }

  /** A blob into `file`, checked against its digest as it streams (see {@link openBlob}). */
  async download(digest: string, size: number | undefined, file: string, what: string): Promise<void> {
    await pipeline(await this.openBlob(digest, size, what), createWriteStream(file), {
      signal: this.#signal,
    });
  }

  /**
   * A blob's bytes as one stream, hashed as they pass: the stream fails at its end with a DigestMismatchError
   * when they are not `digest`. A cut stream is resumed with a Range request from the bytes already passed
   * on, or fetched again with those bytes skipped when the registry ignores the range. Resolves once the
   * registry has answered, so a refused blob is one clear error before anything reads it. Destroying the
   * stream, or the run's end, stops its requests and waits at once.
   */
  async openBlob(digest: string, size: number | undefined, what: string): Promise<Readable> {
    const own = new AbortController();
    const signal = AbortSignal.any([this.#signal, own.signal]);
    const first = await this.#get(`blobs/${digest}`, {}, what, signal);
    const chunks = this.#blobChunks(first, digest, size, what, signal);
    const stream = new Readable({
      highWaterMark: 256 * 1024,
      read() {
        chunks.next().then(
          ({ done, value }) => this.push(done ? null : value),
          (error: unknown) => this.destroy(error as Error),
        );
      },
      destroy(error, callback) {
        own.abort();
        first.destroy();
        callback(error);
      },
    });
    // Ends with the run even when nothing reads it.
    const abort = () => stream.destroy(this.#signal.reason);
    if (this.#signal.aborted) abort();
    this.#signal.addEventListener('abort', abort, { once: true });
    stream.once('close', () => this.#signal.removeEventListener('abort', abort));
    return stream;
  }

  async *#blobChunks(
    first: IncomingMessage,
    digest: string,
    size: number | undefined,
    what: string,
    signal: AbortSignal,
  ): AsyncGenerator<Buffer> {
    const [algorithm = 'sha256', expected] = digest.split(':');
    const hash = createHash(algorithm);
    let received = 0;
    let lastFailure: unknown;
    let response: IncomingMessage | undefined = first;
    // Tries in a row that passed no byte on: a stream that keeps moving is resumed as often as it is cut
    // (a consumer that pauses for a minute lets the idle timer cut a healthy connection).
    let failures = 0;
    for (;;) {
      if (!response) {
        if (failures === TRIES) {
          throw new SourceError(
            `the download of ${what} of ${this.image} from ${this.#source.registry} was cut ${TRIES} times (${reason(lastFailure)}); run again when the registry is reachable`,
            { cause: lastFailure },
          );
        }
        await sleep(backoff(failures), undefined, { signal });
        response = await this.#get(
          `blobs/${digest}`,
          received > 0 ? { range: `bytes=${received}-` } : {},
          what,
          signal,
        );
      }
      const before = received;
      // The registry sent the whole blob again: what was passed on already is skipped.
      let skip = received > 0 && !resumesAt(response, received) ? received : 0;
      try {
        for await (const chunk of response as AsyncIterable<Buffer>) {
          const bytes = skip > 0 ? chunk.subarray(Math.min(skip, chunk.length)) : chunk;
          skip -= chunk.length - bytes.length;
          if (bytes.length === 0) continue;
          received += bytes.length;
          if (size !== undefined && received > size) {
            throw new SourceError(
              `${what} of ${this.image} is larger than the ${size} bytes its manifest says`,
            );
          }
          hash.update(bytes);
          yield bytes;
        }
      } catch (error) {
        signal.throwIfAborted();
        if (error instanceof SourceError || !isTransient(error)) throw error;
        lastFailure = error;
        failures = received > before ? 1 : failures + 1;
        response = undefined;
        continue;
      }
      response = undefined;
      if (skip > 0 || (size !== undefined && received < size)) {
        lastFailure = new Error(`the stream ended after ${received} of ${size ?? 'more'} bytes`);
        failures = received > before ? 1 : failures + 1;
        continue;
      }
      const actual = hash.digest('hex');
      if (actual !== expected) {
        throw new DigestMismatchError(
          `${what} of ${this.image} is corrupt: its ${algorithm} is ${actual}, not ${expected}; nothing was written`,
        );
      }
      return;
    }
  }

  /** A GET of `/v2/NAME/PATH` that succeeded (200 or 206), through login, redirects and retries. */
  async #get(
    path: string,
    headers: Record<string, string>,
    what: string,
    signal = this.#signal,
  ): Promise<IncomingMessage> {
    const url = new URL(`/v2/${this.#source.repository}/${path}`, this.#origin);
    let challenged = false;
    for (let attempt = 1; ; attempt++) {
      const authorization = await this.#authorize();
      let response: IncomingMessage;
      try {
        response = await this.#follow(url, { ...headers, ...(authorization && { authorization }) }, signal);
      } catch (error) {
        signal.throwIfAborted();
        if (error instanceof SourceError) throw error;
        if (isTransient(error) && attempt < TRIES) {
          await sleep(backoff(attempt), undefined, { signal });
          continue;
        }
        throw new SourceError(
          `${what} of ${this.image} could not be fetched from ${this.#source.registry}: ${reason(error)}`,
          { cause: error },
        );
      }
      const status = response.statusCode ?? 0;
      if (status === 200 || status === 206) return response;
      const header = response.headers['www-authenticate'];
      const body = await readText(response, ERROR_BODY).catch(() => '');
      if (status === 401 && !challenged && header) {
        // A challenge we had not answered yet (or a token that no longer serves): log in and ask once more.
        challenged = true;
        const challenges = parseChallenges(String(header));
        this.#challenge =
          challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
        this.#authorization = undefined;
        continue;
      }
      if (isTransientStatus(status) && attempt < TRIES) {
        await sleep(retryAfter(response) ?? backoff(attempt), undefined, { signal });
        continue;
      }
      throw await this.#statusError(status, body, what, attempt);
    }
  }

  /** Follows redirects (blob stores often answer from elsewhere); the login goes to the registry's origin only. */
  async #follow(url: URL, headers: Record<string, string>, signal: AbortSignal): Promise<IncomingMessage> {
    let target = url;
    for (let hop = 0; ; hop++) {
      const same = target.origin === this.#origin;
      const { authorization: _dropped, ...anonymous } = headers;
      const response = await send(target, {
        headers: same ? headers : anonymous,
        agent: same ? this.#agent : this.#agentFor(target),
        signal,
        env: this.#env,
      });
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (![301, 302, 303, 307, 308].includes(status) || !location) return response;
      response.resume();
      if (hop === MAX_REDIRECTS) {
        throw new SourceError(
          `the registry ${this.#source.registry} redirected more than ${MAX_REDIRECTS} times`,
        );
      }
      target = new URL(location, target);
    }
  }

  #agentFor(url: URL): Agent {
    return url.protocol === 'http:' ? this.#elsewhere.http : this.#elsewhere.https;
  }

  /** The Authorization header the registry's challenge asks for, fetched once for the run's pull scope. */
  async #authorize(): Promise<string | undefined> {
    const challenge = this.#challenge;
    if (!challenge) return undefined;
    if (this.#authorization) return this.#authorization;
    this.#login ??= resolveRegistryAuth(this.#source.registry, { env: this.#env, signal: this.#signal });
    const login = await this.#login;
    if (challenge.scheme === 'basic') {
      this.#authorization = basicAuthorization(login?.auth);
      return this.#authorization;
    }
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) return undefined;
    const scope = `repository:${this.#source.repository}:pull`;
    let request: ReturnType<typeof tokenRequest>;
    try {
      request = tokenRequest(challenge, scope, login?.auth);
    } catch (error) {
      throw new SourceError(
        `the registry ${this.#source.registry} names a token server ${JSON.stringify(challenge.params.realm)} that is no URL`,
        { cause: error },
      );
    }
    let response: IncomingMessage;
    try {
      response = await send(request.url, {
        method: request.method,
        headers: request.headers,
        agent: request.url.origin === this.#origin ? this.#agent : this.#agentFor(request.url),
        signal: this.#signal,
        env: this.#env,
        ...(request.body !== undefined && { body: request.body }),
      });
    } catch (error) {
      this.#signal.throwIfAborted();
      throw new SourceError(
        `cannot reach the token server ${request.url.origin} of the registry ${this.#source.registry}: ${reason(error)}`,
        { cause: error },
      );
    }
    const text = await readText(response, 1024 * 1024);
    const status = response.statusCode ?? 0;
    if (status === 401 || status === 403) {
      throw new SourceError(
        login
          ? `the registry ${this.#source.registry} refused the login from ${login.source} (its token server said HTTP ${status}); run docker login ${this.#source.registry} again`
          : `the registry ${this.#source.registry} gives no anonymous token for ${this.image} (HTTP ${status}); run docker login ${this.#source.registry}`,
      );
    }
    let token: string | undefined;
    try {
      token = status === 200 ? tokenOf(JSON.parse(text)) : undefined;
    } catch {}
    if (!token) {
      throw new SourceError(
        `the token server ${request.url.origin} of the registry ${this.#source.registry} gave no token (HTTP ${status}${registryMessage(text)})`,
      );
    }
    this.#authorization = `Bearer ${token}`;
    return this.#authorization;
  }

  async #statusError(status: number, body: string, what: string, tries: number): Promise<SourceError> {
    const registry = this.#source.registry;
    const said = registryMessage(body);
    const login = this.#challenge ? await this.#login : undefined;
    if (status === 401) {
      return new SourceError(
        login
          ? `the registry ${registry} refused the login from ${login.source} for ${this.image} (HTTP 401${said}); run docker login ${registry} again`
          : `the registry ${registry} needs a login to pull ${this.image} (HTTP 401${said}); run docker login ${registry} (or set DOCKER_AUTH_CONFIG)`,
      );
    }
    if (status === 403) {
      return new SourceError(
        `the registry ${registry} denies ${this.image} to ${login ? `the login from ${login.source}` : 'anonymous pulls'} (HTTP 403${said}); run docker login ${registry} with an account that may pull it`,
      );
    }
    if (status === 404) {
      return new SourceError(
        what.startsWith('the manifest')
          ? `the registry ${registry} has no image ${this.image} (HTTP 404${said}); check the name and the tag or digest`
          : `the registry ${registry} lacks ${what} of ${this.image} (HTTP 404${said})`,
      );
    }
    if (isTransientStatus(status)) {
      return new SourceError(
        `the registry ${registry} answered HTTP ${status}${said} for ${what} of ${this.image} ${tries} times; run again later`,
      );
    }
    return new SourceError(
      `the registry ${registry} answered HTTP ${status}${said} for ${what} of ${this.image}`,
    );
  }

  async #body(response: IncomingMessage, limit: number, what: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response) {
        size += (chunk as Buffer).length;
        if (size > limit) {
          response.destroy();
          throw new SourceError(
            `${what} of ${this.image} is larger than ${limit} bytes, which no such document is`,
          );
        }
        chunks.push(chunk as Buffer);
      }
    } catch (error) {
      this.#signal.throwIfAborted();
      if (error instanceof SourceError) throw error;
      throw new SourceError(`${what} of ${this.image} was cut short: ${reason(error)}`, { cause: error });
    }
    return Buffer.concat(chunks);
  }
}

/** A 206 whose Content-Range starts at `offset`; anything else is a fresh copy of the blob. */
function resumesAt(response: IncomingMessage, offset: number): boolean {
  const range = /^bytes (\d+)-/.exec(String(response.headers['content-range'] ?? ''));
  return response.statusCode === 206 && range !== null && Number(range[1]) === offset;
}

function backoff(attempt: number): number {
  return FIRST_BACKOFF_MS * 2 ** (attempt - 1);
}

/** Retry-After in seconds (or an HTTP date), capped: a registry may not hold a run for long. */
function retryAfter(response: IncomingMessage): number | undefined {
  const value = response.headers['retry-after'];
  if (value === undefined) return undefined;
  const seconds = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(seconds) ? Math.min(Math.max(seconds, 0), MAX_RETRY_AFTER_MS) : undefined;
}

/** The registry's own words from an error body (`{"errors":[{"code","message"}]}`), short and printable. */
function registryMessage(body: string): string {
  let text = '';
  try {
    const errors = (JSON.parse(body) as { errors?: { code?: unknown; message?: unknown }[] }).errors;
    const first = errors?.[0];
    if (first) text = [first.code, first.message].filter((part) => typeof part === 'string').join(': ');
  } catch {
    text = '';
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a registry's words never reach a terminal raw.
  text = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').trim();
  return text === '' ? '' : `: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
}

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  let message = error instanceof Error ? error.message : String(error);
  // OpenSSL's lines carry its source file and a line break: its reason is the part worth a line.
  const openssl = /SSL routines:[^:]*:([^:]+)/.exec(message);
  if (openssl) message = openssl[1] as string;
  message = message.replace(/\s+/g, ' ').trim();
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/** Why `/v2/` could not be reached, in the user's terms. */
function pingError(registry: string, error: unknown): SourceError {
  if (error instanceof SourceError) return error;
  const why = reason(error);
  if (isUnreachable(error)) {
    return new SourceError(
      `cannot reach the registry ${registry} (${why}); check the host and port, and that the registry is up`,
      { cause: error },
    );
  }
  if (/wrong version number|EPROTO|packet length too long/i.test(why)) {
    return new SourceError(
      `the registry ${registry} does not speak HTTPS (${why}); for a plain-HTTP registry you trust use --tls-verify=false`,
      { cause: error },
    );
  }
  if (isTlsFailure(error)) {
    return new SourceError(
      `the registry ${registry}'s certificate is not trusted (${why}); put its CA in ${CERTS_D}/${registry}/ca.crt, or use --tls-verify=false for a registry you trust`,
      { cause: error },
    );
  }
  return new SourceError(`cannot reach the registry ${registry}: ${why}`, { cause: error });
}
