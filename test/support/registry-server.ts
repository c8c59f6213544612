import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { freeLoopbackPort, waitFor } from './free-port.js';

/**
 * A real registry (Debian's docker-registry, distribution 2.x) on 127.0.0.1: behind htpasswd basic auth by
 * default, or with no auth, or validating the JWTs of a token server; over TLS when given a certificate.
 */
export interface RegistryServer {
  /** `127.0.0.1:<port>`, as image references and `docker login` name it. */
  readonly host: string;
  readonly user: string;
  readonly password: string;
  /** The registry's own log, for failure messages. */
  readonly logFile: string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /** htpasswd (the default), none, or `auth: token` trusting this bundle's certificate for the issuer. */
  readonly auth?:
    | 'htpasswd'
    | 'none'
    | {
        readonly realm: string;
        readonly service: string;
        readonly issuer: string;
        readonly rootCertBundle: string;
      };
  /** Listen on this address of the machine instead of 127.0.0.1 (a registry that is not loopback). */
  readonly address?: string;
  /** Serve HTTPS with this certificate and key (PEM files). */
  readonly tls?: { readonly certificate: string; readonly key: string };
}

export async function startRegistry(
  user = 'ci-user',
  password = 'ci-password',
  options: RegistryOptions = {},
): Promise<RegistryServer> {
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
    const host = `${options.address ?? '127.0.0.1'}:${port}`;
    const auth = options.auth ?? 'htpasswd';
    const tls = options.tls
      ? `, tls: { certificate: ${options.tls.certificate}, key: ${options.tls.key} }`
      : '';
    await writeFile(
      join(dir, 'config.yml'),
      [
        'version: 0.1',
        'log: { level: info }',
        `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }`,
        `http: { addr: "${host}"${tls} }`,
        auth === 'htpasswd'
          ? `auth: { htpasswd: { realm: distroless-contents-test, path: ${join(dir, 'htpasswd')} } }`
          : auth === 'none'
            ? ''
            : `auth: { token: { realm: "${auth.realm}", service: "${auth.service}", issuer: "${auth.issuer}", rootcertbundle: ${auth.rootCertBundle} } }`,
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
      async () => (await probe(host, options.tls !== undefined)) === (auth === 'none' ? 200 : 401),
      () => (exited ? `it exited; see ${logFile}` : undefined),
    );
    return { host, user, password, logFile, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The status of GET /v2/, over TLS without checking the certificate when `tls`. */
async function probe(host: string, tls: boolean): Promise<number> {
  if (!tls) return (await fetch(`http://${host}/v2/`)).status;
  return new Promise((resolve, reject) => {
    httpsGet(`https://${host}/v2/`, { rejectUnauthorized: false }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    }).once('error', reject);
  });
}
