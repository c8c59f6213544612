import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

/** Folders of PEM files, named as dockerd's --tls* flags and the docker CLI's DOCKER_CERT_PATH expect. */
export interface TestCertificates {
  /** ca.pem, cert.pem, key.pem for the engine. */
  readonly server: string;
  /** ca.pem, cert.pem, key.pem for the client: what DOCKER_CERT_PATH points to. */
  readonly client: string;
}

/**
 * A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl as the
 * Docker docs describe ("Protect the Docker daemon socket").
 */
export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  const server = join(dir, 'server');
  const client = join(dir, 'client');
  await mkdir(server, { recursive: true });
  await mkdir(client, { recursive: true });
  const openssl = (...args: string[]) => execa('openssl', args, { cwd: dir });
  await openssl('genrsa', '-out', 'ca-key.pem', '2048');
  await openssl(
    'req',
    '-new',
    '-x509',
    '-days',
    '2',
    '-key',
    'ca-key.pem',
    '-sha256',
    '-subj',
    '/CN=distroless-contents test CA',
    '-out',
    'ca.pem',
  );
  const sign = async (name: string, subject: string, extensions: string) => {
    await openssl('genrsa', '-out', `${name}-key.pem`, '2048');
    await openssl('req', '-new', '-key', `${name}-key.pem`, '-subj', subject, '-out', `${name}.csr`);
    await writeFile(join(dir, `${name}.ext`), extensions);
    await openssl(
      'x509',
      '-req',
      '-days',
      '2',
      '-sha256',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-CAcreateserial',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}-cert.pem`,
    );
  };
  await sign('server', '/CN=127.0.0.1', 'subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n');
  await sign('client', '/CN=client', 'extendedKeyUsage = clientAuth\n');
  for (const [name, folder] of [
    ['server', server],
    ['client', client],
  ] as const) {
    await execa('cp', [join(dir, 'ca.pem'), join(folder, 'ca.pem')]);
    await execa('cp', [join(dir, `${name}-cert.pem`), join(folder, 'cert.pem')]);
    await execa('cp', [join(dir, `${name}-key.pem`), join(folder, 'key.pem')]);
  }
  return { server, client };
}
