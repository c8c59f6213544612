import { describe, expect, it } from 'vitest';
import { proxyFor } from '../../src/sources/registry-proxy.js';

describe('proxyFor: HTTPS_PROXY, HTTP_PROXY and NO_PROXY as Go reads them', () => {
  const env = { HTTPS_PROXY: 'proxy.example:3128', HTTP_PROXY: 'http://plain.example:8080' };
  const pick = (url: string, extra: Record<string, string> = {}) =>
    proxyFor(new URL(url), { ...env, ...extra })?.href;

  it('picks by scheme, upper case before lower, and adds http:// to a bare host', () => {
    expect(pick('https://registry.example/v2/')).toBe('http://proxy.example:3128/');
    expect(pick('http://registry.example/v2/')).toBe('http://plain.example:8080/');
    expect(proxyFor(new URL('https://r.example/'), { https_proxy: 'http://low:1' })?.href).toBe(
      'http://low:1/',
    );
    expect(
      proxyFor(new URL('https://r.example/'), { HTTPS_PROXY: 'http://up:1', https_proxy: 'http://low:1' })
        ?.href,
    ).toBe('http://up:1/');
    expect(proxyFor(new URL('https://r.example/'), {})).toBeUndefined();
  });

  it('never proxies localhost or loopback addresses', () => {
    for (const url of [
      'https://localhost:5000/',
      'https://127.0.0.1:5000/',
      'https://127.9.9.9/',
      'https://[::1]:5000/',
    ]) {
      expect(pick(url)).toBeUndefined();
    }
  });

  it('honours NO_PROXY: *, domains and their subdomains, leading dots, IPs, CIDRs and ports', () => {
    expect(pick('https://r.example/', { NO_PROXY: '*' })).toBeUndefined();
    expect(pick('https://r.example/', { NO_PROXY: 'other.example, r.example' })).toBeUndefined();
    expect(pick('https://a.r.example/', { NO_PROXY: 'r.example' })).toBeUndefined();
    expect(pick('https://ar.example/', { NO_PROXY: 'r.example' })).toBeDefined();
    expect(pick('https://a.corp.example/', { no_proxy: '.corp.example' })).toBeUndefined();
    expect(pick('https://10.1.2.3/', { NO_PROXY: '10.0.0.0/8' })).toBeUndefined();
    expect(pick('https://11.1.2.3/', { NO_PROXY: '10.0.0.0/8' })).toBeDefined();
    expect(pick('https://192.0.2.7:5000/', { NO_PROXY: '192.0.2.7' })).toBeUndefined();
    expect(pick('https://r.example:5000/', { NO_PROXY: 'r.example:5000' })).toBeUndefined();
    expect(pick('https://r.example/', { NO_PROXY: 'r.example:5000' })).toBeDefined();
  });
});
