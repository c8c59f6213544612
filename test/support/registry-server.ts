import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { freeLoopbackPort, waitFor } from './free-port.js';

/** A real registry (Debian's docker-registry, distribution 2.x) on 127.0.0.1 behind htpasswd basic auth. */
export interface RegistryServer {
  /** `127.0.0.1:<port>`, as image references and `docker login` name it. */
  readonly host: string;
  readonly user: string;
  readonly password: string;
  /** The registry's own log, for failure messages. */
  readonly logFile: string;
  stop(): Promise<void>;
}

export async function startRegistry(user = 'ci-user', password = 'ci-password'): Promise<RegistryServer> {
  const dir = await mkdtemp(join(tmpdir(), 'dc-registry-'));
  const logFile = join(dir, 'registry.log');
  let server: ResultPromise | undefined;
  const stop = async () => {
    server?.kill('SIGTERM');
    await server?.catch(() => {});
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // distribution's htpasswd backend reads bcrypt entries only.
    const { stdout } = await execa('htpasswd', ['-Bbn', user, password]);
    await writeFile(join(dir, 'htpasswd'), `${stdout.trim()}\n`);
    await mkdir(join(dir, 'data'));
    const port = await freeLoopbackPort();
    const host = `127.0.0.1:${port}`;
    await writeFile(
      join(dir, 'config.yml'),
      [
        'version: 0.1',
        'log: { level: info }',
        `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }`,
        `http: { addr: "${host}" }`,
        `auth: { htpasswd: { realm: distroless-contents-test, path: ${join(dir, 'htpasswd')} } }`,
        '',
      ].join('\n'),
    );
    server = execa('docker-registry', ['serve', join(dir, 'config.yml')], {
      stdin: 'ignore',
      stdout: { file: logFile },
      stderr: { file: logFile },
    });
    let exited = false;
    server
      .finally(() => {
        exited = true;
      })
      .catch(() => {});
    await waitFor(
      `docker-registry on ${host}`,
      async () => (await fetch(`http://${host}/v2/`)).status === 401,
      () => (exited ? `it exited; see ${logFile}` : undefined),
    );
    return { host, user, password, logFile, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
