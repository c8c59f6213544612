import { type Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** A socket that says nothing this long is taken as cut (and retried), never waited on for ever. */
const IDLE_MS = 60_000;

export interface SendOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly agent: Agent;
  readonly signal: AbortSignal;
  readonly body?: string;
}

/** One HTTP request; resolves with the response as soon as its head arrives (the body is the caller's to read or drop). */
export function send(url: URL, options: SendOptions): Promise<IncomingMessage> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = request(url, {
      method: options.method ?? 'GET',
      headers: { 'user-agent': 'distroless-contents', ...options.headers },
      agent: options.agent,
      signal: options.signal,
    });
    outgoing.setTimeout(IDLE_MS, () => {
      outgoing.destroy(Object.assign(new Error(`no answer for ${IDLE_MS / 1000} s`), { code: 'ETIMEDOUT' }));
    });
    outgoing.once('response', resolve);
    outgoing.once('error', reject);
    outgoing.end(options.body);
  });
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
