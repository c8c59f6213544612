import { createSign, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { execa } from 'execa';

/**
 * A registry token server of the test's own (the distribution spec's token auth): answers
 * `GET /token?service=…&scope=…` with an RS256 JWT whose `x5c` header carries a self-signed test
 * certificate (made by openssl), the one the registry's `rootcertbundle` trusts. Only `user:password`
 * as Basic auth gets a token; every request is counted, so a test can see tokens being reused.
 */
export interface TokenServer {
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  /** The PEM certificate for the registry's rootcertbundle. */
  readonly certificate: string;
  /** Token requests received (query strings). */
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startTokenServer(dir: string, user: string, password: string): Promise<TokenServer> {
  const key = join(dir, 'token-key.pem');
  const certificate = join(dir, 'token-cert.pem');
  await execa('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=distroless-contents test token issuer',
    '-keyout',
    key,
    '-out',
    certificate,
  ]);
  const keyPem = await readFile(key, 'utf8');
  const der = (await readFile(certificate, 'utf8')).replace(/-----[^-]+-----|\s/g, '');
  const service = 'distroless-contents-test-registry';
  const issuer = 'distroless-contents-test-issuer';
  const requests: string[] = [];
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://token');
    requests.push(url.search);
    if (request.headers.authorization !== expected) {
      response.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad login"}');
      return;
    }
    const access = url.searchParams.getAll('scope').flatMap((scope) => {
      const [type, name, actions] = scope.split(':');
      return type && name && actions ? [{ type, name, actions: actions.split(',') }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const token = jwt(keyPem, der, {
      iss: issuer,
      sub: user,
      aud: url.searchParams.get('service') ?? service,
      exp: now + 600,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString('hex'),
      access,
    });
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ token, expires_in: 600, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the token server has no port');
  return {
    realm: `http://127.0.0.1:${address.port}/token`,
    service,
    issuer,
    certificate,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function jwt(keyPem: string, certificateDer: string, claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signed = `${part({ typ: 'JWT', alg: 'RS256', x5c: [certificateDer] })}.${part(claims)}`;
  const signature = createSign('RSA-SHA256').update(signed).sign(keyPem).toString('base64url');
  return `${signed}.${signature}`;
}
