import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';

/**
 * Debian's docker-registry on 127.0.0.1 with no auth, its data under `dir`: the registry the bench's
 * `docker://` dumps, `skopeo copy` and `docker pull` read (loopback, so plain HTTP for all three).
 */
export async function startRegistry(dir) {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'data'), { recursive: true });
  const host = `127.0.0.1:${await freePort()}`;
  await writeFile(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log: { level: error }',
      `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }`,
      `http: { addr: "${host}" }`,
      '',
    ].join('\n'),
  );
  const server = execa('docker-registry', ['serve', join(dir, 'config.yml')], {
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: { file: join(dir, 'registry.log') },
  });
  let exited = false;
  server.catch(() => {}).finally(() => (exited = true));
  const stop = async () => {
    server.kill('SIGTERM');
    await server.catch(() => {});
    await rm(dir, { recursive: true, force: true });
  };
  for (let attempt = 0; ; attempt++) {
    if (exited || attempt === 60) {
      await stop();
      throw new Error(`docker-registry did not come up on ${host} (log: ${join(dir, 'registry.log')})`);
    }
    if ((await fetch(`http://${host}/v2/`).catch(() => undefined))?.ok) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { host, stop };
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}
