import { BlockList, isIP } from 'node:net';
import { hostName } from './registry-endpoint.js';

/**
 * The proxy for `target` as Go's net/http (and so the docker engine and CLI) picks it: HTTPS_PROXY for
 * https URLs, HTTP_PROXY for http ones (upper case first, then lower), none for a host NO_PROXY names
 * (`*`, a host or domain and its subdomains, a leading-dot suffix, an IP or CIDR, optionally with `:port`),
 * and never for localhost or a loopback address.
 */
export function proxyFor(target: URL, env: NodeJS.ProcessEnv): URL | undefined {
  const setting =
    target.protocol === 'https:' ? env.HTTPS_PROXY || env.https_proxy : env.HTTP_PROXY || env.http_proxy;
  if (!setting) return undefined;
  const host = hostName(target.host).toLowerCase();
  if (host === 'localhost' || isLoopback(host)) return undefined;
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  const noProxy = (env.NO_PROXY || env.no_proxy || '').split(',').map((entry) => entry.trim().toLowerCase());
  if (noProxy.some((entry) => entry !== '' && excludes(entry, host, port))) return undefined;
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(setting) ? setting : `http://${setting}`);
  } catch {
    return undefined;
  }
}

function excludes(entry: string, host: string, port: string): boolean {
  if (entry === '*') return true;
  const cidr = /^([0-9a-f.:]+)\/(\d{1,3})$/.exec(entry);
  if (cidr) {
    const family = isIP(cidr[1] as string);
    const hostFamily = isIP(host);
    if (family === 0 || family !== hostFamily) return false;
    const list = new BlockList();
    list.addSubnet(cidr[1] as string, Number(cidr[2]), family === 6 ? 'ipv6' : 'ipv4');
    return list.check(host, family === 6 ? 'ipv6' : 'ipv4');
  }
  let name = entry;
  const withPort = /^(.*[^:]):(\d+)$/.exec(entry);
  if (withPort && !isIP(entry.replace(/^\[|\]$/g, ''))) {
    if (withPort[2] !== port) return false;
    name = withPort[1] as string;
  }
  name = name.replace(/^\[|\]$/g, '').replace(/^\*\./, '.');
  if (name.startsWith('.')) return host.endsWith(name) || host === name.slice(1);
  return host === name || host.endsWith(`.${name}`);
}

function isLoopback(host: string): boolean {
  return host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}
