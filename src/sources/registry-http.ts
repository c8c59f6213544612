import { type Agent, Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { type Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { proxyFor } from './registry-proxy.js';

/** A socket that says nothing this long is taken as cut (and retried), never waited on for ever. */
const IDLE_MS = 60_000;

export interface SendOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly agent: Agent;
  readonly signal: AbortSignal;
  readonly body?: string;
  /** Where HTTPS_PROXY, HTTP_PROXY and NO_PROXY are read. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Requests to an HTTP proxy (absolute-form for http URLs) share its connections. */
const toProxies = new HttpAgent({ keepAlive: true });

/** One HTTP request; resolves with the response as soon as its head arrives (the body is the caller's to read or drop). */
export async function send(url: URL, options: SendOptions): Promise<IncomingMessage> {
  const proxy = proxyFor(url, options.env ?? process.env);
  const headers: Record<string, string> = { 'user-agent': 'distroless-contents', ...options.headers };
  const common = { method: options.method ?? 'GET', headers, signal: options.signal };
  let start: () => ReturnType<typeof httpRequest>;
  let tunnelled: Socket | undefined;
  if (!proxy) {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    start = () => request(url, { ...common, agent: options.agent });
  } else if (url.protocol === 'http:') {
    // A plain-HTTP request goes to the proxy whole, its URL in absolute form.
    start = () =>
      httpRequest({
        ...common,
        host: hostOf(proxy),
        port: proxy.port || 80,
        path: url.href,
        headers: { ...headers, host: url.host, ...proxyAuthorization(proxy) },
        agent: toProxies,
      });
  } else {
    const socket = await tunnel(proxy, url, options.signal);
    tunnelled = socket;
    const tls = (options.agent as HttpsAgent).options ?? {};
    start = () =>
      // No agent: with one, Node would ignore createConnection and dial the registry itself.
      httpsRequest(url, {
        ...common,
        createConnection: () =>
          tlsConnect({
            socket,
            servername: isIpLiteral(url.hostname) ? undefined : url.hostname,
            ca: tls.ca,
            cert: tls.cert,
            key: tls.key,
            rejectUnauthorized: tls.rejectUnauthorized ?? true,
          }),
      });
  }
  return new Promise((resolve, reject) => {
    const outgoing = start();
    outgoing.setTimeout(IDLE_MS, () => {
      outgoing.destroy(Object.assign(new Error(`no answer for ${IDLE_MS / 1000} s`), { code: 'ETIMEDOUT' }));
    });
    outgoing.once('response', resolve);
    outgoing.once('error', (error) => {
      // A tunnel left open would keep the process alive.
      tunnelled?.destroy();
      reject(error);
    });
    outgoing.end(options.body);
  });
}

/** A CONNECT tunnel through the proxy to the target's host and port (RFC 9110 9.3.6), as Go's transport opens one. */
function tunnel(proxy: URL, target: URL, signal: AbortSignal): Promise<Socket> {
  const authority = `${target.hostname.includes(':') && !target.hostname.startsWith('[') ? `[${target.hostname}]` : target.hostname}:${target.port || 443}`;
  return new Promise((resolve, reject) => {
    const connect = httpRequest({
      host: hostOf(proxy),
      port: proxy.port || 80,
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...proxyAuthorization(proxy) },
      signal,
      agent: false,
    });
    connect.once('connect', (response, socket) => {
      if (response.statusCode === 200) {
        resolve(socket);
        return;
      }
      socket.destroy();
      reject(
        Object.assign(
          new Error(`the proxy ${proxy.host} refused a tunnel to ${authority} (HTTP ${response.statusCode})`),
          {
            code: 'EPROXY',
          },
        ),
      );
    });
    connect.once('error', reject);
    connect.end();
  });
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

function isIpLiteral(hostname: string): boolean {
  return /^\[.*\]$|^[0-9.]+$/.test(hostname);
}

function proxyAuthorization(proxy: URL): Record<string, string> {
  if (!proxy.username && !proxy.password) return {};
  const login = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(login).toString('base64')}` };
}

/** A response body as text, at most `limit` bytes of it (an error body is read only to be quoted). */
export async function readText(response: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size > limit) {
      response.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/** Network errors that a second try may get past: a reset, a cut or stalled stream. */
export function isTransient(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'ETIMEDOUT' ||
    code === 'ECONNABORTED' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    code === 'UND_ERR_SOCKET' ||
    (error as Error | undefined)?.message === 'aborted'
  );
}

/** HTTP answers that mean "try again later": too many requests, and the server side's failures. */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status !== 501 && status !== 505);
}

/** Errors that mean the registry could not be reached at all (no point in a second scheme or try). */
export function isUnreachable(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL'].includes(
    code ?? '',
  );
}

/** A TLS failure: a certificate not trusted, or a server that does not speak TLS at all. */
export function isTlsFailure(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  return (
    /^ERR_TLS|^ERR_SSL|^CERT_|^UNABLE_TO_|SELF_SIGNED|^HOSTNAME_MISMATCH|^EPROTO$/.test(code) ||
    /wrong version number|certificate/i.test((error as Error | undefined)?.message ?? '')
  );
}
