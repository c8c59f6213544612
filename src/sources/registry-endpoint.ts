import { lookup } from 'node:dns/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { SourceError } from './source-error.js';

/** Where the docker engine looks for a registry's own CA and client certificate (`HOST[:PORT]/*.crt`, `*.cert`, `*.key`). */
export const CERTS_D = '/etc/docker/certs.d';

/** The bundles Go's crypto/x509 reads on Linux as the system's CAs, first found wins (as it does). */
const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/pki/tls/cacert.pem',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

/** How to reach one registry: the scheme and host its API answers on, and the agent that carries the TLS rules. */
export interface RegistryEndpoint {
  /** What messages and `docker login` call it. */
  readonly host: string;
  /** `https://host[:port]` or, where allowed, `http://host[:port]`. */
  readonly origin: string;
  readonly agent: HttpAgent;
  /** Whether a certificate is checked (false: an insecure registry, as the engine treats loopback ones). */
  readonly verified: boolean;
}

/** The TLS settings of a registry: verified against the system CAs plus certs.d, or not verified at all. */
export function registryAgents(host: string, insecure: boolean): { https: HttpsAgent; http: HttpAgent } {
  const { ca, cert, key } = certsFor(host);
  return {
    https: new HttpsAgent({
      keepAlive: true,
      rejectUnauthorized: !insecure,
      ...(!insecure && { ca: [...systemCas(), ...ca] }),
      ...(cert && key && { cert, key }),
    }),
    http: new HttpAgent({ keepAlive: true }),
  };
}

/**
 * Whether the engine would treat `host` as an insecure registry by default: moby's registry config marks
 * 127.0.0.0/8 and ::1 insecure and tests the addresses a host name resolves to, so `localhost:5000` is too.
 * An insecure registry is tried over HTTPS without checking its certificate, then over plain HTTP.
 */
export async function isLoopbackRegistry(host: string): Promise<boolean> {
  const name = hostName(host);
  const addresses =
    isIP(name) !== 0
      ? [name]
      : await lookup(name, { all: true }).then(
          (found) => found.map((entry) => entry.address),
          () => [],
        );
  return addresses.length > 0 && addresses.every(isLoopbackAddress);
}

function isLoopbackAddress(address: string): boolean {
  return address === '::1' || /^127\./.test(address) || /^::ffff:127\./i.test(address);
}

/** The host without its port or IPv6 brackets. */
export function hostName(host: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (bracketed) return bracketed[1] as string;
  return host.replace(/:\d+$/, '');
}

let systemBundle: string[] | undefined;

function systemCas(): string[] {
  if (systemBundle) return systemBundle;
  for (const file of SYSTEM_BUNDLES) {
    try {
      systemBundle = [readFileSync(file, 'utf8')];
      return systemBundle;
    } catch {}
  }
  systemBundle = [...rootCertificates];
  return systemBundle;
}

/** The engine's per-registry files: every `*.crt` a CA, a `NAME.cert` with its `NAME.key` the client's pair. */
function certsFor(host: string): { ca: string[]; cert?: string; key?: string } {
  const dir = join(CERTS_D, host);
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return { ca: [] };
  }
  const read = (name: string) => {
    try {
      return readFileSync(join(dir, name), 'utf8');
    } catch (error) {
      throw new SourceError(`cannot read ${join(dir, name)}: ${(error as Error).message}`, { cause: error });
    }
  };
  const ca = names.filter((name) => name.endsWith('.crt')).map(read);
  const pair = names.find(
    (name) => name.endsWith('.cert') && names.includes(name.replace(/\.cert$/, '.key')),
  );
  if (!pair) return { ca };
  return { ca, cert: read(pair), key: read(pair.replace(/\.cert$/, '.key')) };
}
