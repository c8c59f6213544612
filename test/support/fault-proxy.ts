import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

// A loopback reverse proxy in front of a real registry that breaks one kind of answer on purpose: the
// faults a real registry on a good network does not show (a cut stream, a flipped byte, a 429). Mocked
// on purpose, and only the fault: every other byte comes from the registry.

export type Fault =
  /** Passes everything through. */
  | { readonly kind: 'none' }
  /** The first GET of this blob sends half of its body, then the connection is cut. */
  | { readonly kind: 'cut'; readonly blob: string }
  /** Every GET whose path ends so (a blob, a manifest) has one byte flipped in the middle of its body. */
  | { readonly kind: 'flip'; readonly path: string }
  /** The first `times` requests whose path ends so are answered 429 (Retry-After: 0). */
  | { readonly kind: 'too-many'; readonly path: string; readonly times: number }
  /** Every request whose path ends so is answered 503. */
  | { readonly kind: 'down'; readonly path: string }
  /** A GET of this blob sends its head and a few bytes, then nothing more. */
  | { readonly kind: 'stall'; readonly blob: string }
  /** Every blob GET is held this long before it is forwarded (so downloads overlap). */
  | { readonly kind: 'delay'; readonly ms: number }
  /** Manifests of this media type come back with their layers' media type replaced. */
  | { readonly kind: 'layer-type'; readonly mediaType: string };

export interface FaultProxy {
  /** `127.0.0.1:<port>`: a registry host as references name it. */
  readonly host: string;
  /** Requests seen: `METHOD PATH [range]`. */
  readonly requests: string[];
  /** The most blob GETs that were open at once since the fault was set. */
  readonly mostBlobsAtOnce: number;
  fault: Fault;
  close(): Promise<void>;
}

export async function startFaultProxy(registry: string): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  const state = { fault: { kind: 'none' } as Fault, cut: new Set<string>(), tooMany: 0, blobs: 0, most: 0 };
  const requests: string[] = [];
  const server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    const path = incoming.url ?? '/';
    requests.push(`${incoming.method} ${path}${incoming.headers.range ? ` ${incoming.headers.range}` : ''}`);
    const fault = state.fault;
    if (fault.kind === 'too-many' && path.endsWith(fault.path) && state.tooMany < fault.times) {
      state.tooMany++;
      outgoing.writeHead(429, { 'retry-after': '0', 'content-type': 'application/json' });
      outgoing.end('{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}');
      return;
    }
    if (fault.kind === 'down' && path.endsWith(fault.path)) {
      outgoing.writeHead(503, { 'content-type': 'application/json' });
      outgoing.end('{"errors":[{"code":"UNAVAILABLE","message":"down for the test"}]}');
      return;
    }
    if (incoming.method === 'GET' && /\/blobs\//.test(path)) {
      state.blobs++;
      state.most = Math.max(state.most, state.blobs);
      outgoing.once('close', () => state.blobs--);
    }
    const wait = fault.kind === 'delay' && /\/blobs\//.test(path) ? fault.ms : 0;
    const upstream = request(
      {
        host: '127.0.0.1',
        port: Number(registry.split(':')[1]),
        path,
        method: incoming.method,
        headers: incoming.headers,
      },
      (answer) => respond(answer, incoming, outgoing, fault, state.cut),
    );
    upstream.once('error', () => outgoing.destroy());
    setTimeout(() => incoming.pipe(upstream), wait);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the fault proxy has no port');
  return {
    host: `127.0.0.1:${address.port}`,
    requests,
    get mostBlobsAtOnce() {
      return state.most;
    },
    get fault() {
      return state.fault;
    },
    set fault(value: Fault) {
      state.fault = value;
      state.cut.clear();
      state.tooMany = 0;
      state.most = 0;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function respond(
  answer: IncomingMessage,
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  fault: Fault,
  cut: Set<string>,
): void {
  const path = incoming.url ?? '';
  const isBlob = (blob: string) =>
    incoming.method === 'GET' && path.endsWith(`/blobs/${blob}`) && answer.statusCode === 200;
  if (fault.kind === 'layer-type' && incoming.method === 'GET' && /\/manifests\//.test(path)) {
    void rewriteManifest(answer, outgoing, fault.mediaType);
    return;
  }
  outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
  if (fault.kind === 'cut' && isBlob(fault.blob) && !cut.has(fault.blob)) {
    cut.add(fault.blob);
    const half = Math.floor(Number(answer.headers['content-length']) / 2);
    let sent = 0;
    answer.on('data', (chunk: Buffer) => {
      if (sent >= half) return;
      const part = chunk.subarray(0, half - sent);
      sent += part.length;
      outgoing.write(part);
      if (sent >= half) {
        answer.destroy();
        outgoing.socket?.destroy();
      }
    });
    return;
  }
  if (
    fault.kind === 'flip' &&
    incoming.method === 'GET' &&
    path.endsWith(fault.path) &&
    answer.statusCode === 200
  ) {
    const middle = Math.floor(Number(answer.headers['content-length']) / 2);
    let at = 0;
    answer.on('data', (chunk: Buffer) => {
      if (middle >= at && middle < at + chunk.length) {
        const copy = Buffer.from(chunk);
        copy[middle - at] = (copy[middle - at] as number) ^ 0x01;
        outgoing.write(copy);
      } else outgoing.write(chunk);
      at += chunk.length;
    });
    answer.on('end', () => outgoing.end());
    return;
  }
  if (fault.kind === 'stall' && isBlob(fault.blob)) {
    answer.once('data', (chunk: Buffer) => {
      outgoing.write(chunk.subarray(0, 16));
      answer.pause();
    });
    return;
  }
  answer.pipe(outgoing);
}

/** The manifest with every layer's media type replaced (and no digest header: it is another document now). */
async function rewriteManifest(
  answer: IncomingMessage,
  outgoing: ServerResponse,
  mediaType: string,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of answer) chunks.push(chunk as Buffer);
  const manifest = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  for (const layer of manifest.layers ?? []) layer.mediaType = mediaType;
  const body = Buffer.from(JSON.stringify(manifest));
  const {
    'docker-content-digest': _digest,
    'content-length': _length,
    etag: _etag,
    ...headers
  } = answer.headers;
  outgoing.writeHead(answer.statusCode ?? 200, { ...headers, 'content-length': body.length });
  outgoing.end(body);
}
