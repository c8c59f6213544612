import { createServer, type Socket } from 'node:net';

/**
 * A registry on 127.0.0.1 that hangs every pull: it answers the engine's API check (GET /v2/) and then never
 * answers the manifest request. The engine sets no deadline on that request, so the pull lasts until the
 * client gives up. A TLS hello gets a plain HTTP answer at once, so the engine falls back to plain HTTP
 * (loopback registries are insecure by default) without waiting for its handshake timeout: containerd's
 * resolver (Docker 26's containerd store) falls back only on that answer, not on a closed connection.
 */
export interface SilentRegistry {
  /** `127.0.0.1:<port>`. */
  readonly host: string;
  /** Request lines received, e.g. `HEAD /v2/x/manifests/1 HTTP/1.1`. */
  requests(): readonly string[];
  close(): Promise<void>;
}

const API_CHECK =
  'HTTP/1.1 200 OK\r\nDocker-Distribution-API-Version: registry/2.0\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}';

export async function startSilentRegistry(): Promise<SilentRegistry> {
  const sockets = new Set<Socket>();
  const requests: string[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', (data: Buffer) => {
      // 0x16: a TLS handshake record.
      if (data[0] === 0x16) {
        socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const line = data.toString('latin1').split('\r\n')[0] ?? '';
      requests.push(line);
      if (line.startsWith('GET /v2/ ')) socket.write(API_CHECK);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the silent registry has no port');
  return {
    host: `127.0.0.1:${address.port}`,
    requests: () => requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
