import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (the kernel picks it); the caller binds it soon after. */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port from the kernel');
  return address.port;
}

/**
 * Polls `check` until it returns true; bounded, so a server that never comes up fails the setup.
 * `failed` says why to stop early (the server exited), or undefined to go on.
 */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  failed: () => string | undefined = () => undefined,
  tries = 120,
): Promise<void> {
  for (let attempt = 0; attempt < tries; attempt++) {
    const reason = failed();
    if (reason) throw new Error(`${what} failed: ${reason}`);
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${what} did not come up within ${tries / 2} s`);
}
