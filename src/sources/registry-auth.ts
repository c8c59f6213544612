import type { RegistryAuth } from '../docker/credentials.js';

/** One challenge of a `WWW-Authenticate` header: its scheme (lowercase) and parameters. */
export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * The challenges of a `WWW-Authenticate` header (RFC 7235): `Bearer realm="…",service="…",scope="…"`,
 * `Basic realm="…"`, several of them separated by commas, values quoted (with `\` escapes) or bare tokens.
 */
export function parseChallenges(header: string): Challenge[] {
  const challenges: { scheme: string; params: Record<string, string> }[] = [];
  const token = /\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*/y;
  let at = 0;
  while (at < header.length) {
    token.lastIndex = at;
    const scheme = token.exec(header);
    if (!scheme) break;
    at = token.lastIndex;
    const challenge = { scheme: (scheme[1] as string).toLowerCase(), params: {} as Record<string, string> };
    challenges.push(challenge);
    // Parameters follow until the next bare token that is not followed by '='.
    for (;;) {
      const param = /\s*,?\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*/y;
      param.lastIndex = at;
      const name = param.exec(header);
      if (!name) break;
      at = param.lastIndex;
      let value: string;
      if (header[at] === '"') {
        let end = at + 1;
        value = '';
        while (end < header.length && header[end] !== '"') {
          if (header[end] === '\\') end++;
          value += header[end] ?? '';
          end++;
        }
        at = end + 1;
      } else {
        const bare = /[^\s,]*/y;
        bare.lastIndex = at;
        value = bare.exec(header)?.[0] ?? '';
        at = bare.lastIndex;
      }
      challenge.params[(name[1] as string).toLowerCase()] = value;
    }
    const comma = /\s*,\s*/y;
    comma.lastIndex = at;
    if (comma.exec(header)) at = comma.lastIndex;
  }
  return challenges;
}

/** `Basic base64(user:password)`, or undefined for a login that is an identity token (Basic cannot carry one). */
export function basicAuthorization(auth: RegistryAuth | undefined): string | undefined {
  if (!auth || auth.identitytoken !== undefined) return undefined;
  return `Basic ${Buffer.from(`${auth.username ?? ''}:${auth.password ?? ''}`).toString('base64')}`;
}

/**
 * The token endpoint's request for `scope`, as the docker CLI's distribution client makes it: an identity
 * token is exchanged by an OAuth2 POST (refresh_token grant); otherwise a GET with `service` and `scope`,
 * carrying the login as Basic auth when there is one.
 */
export function tokenRequest(
  challenge: Challenge,
  scope: string,
  auth: RegistryAuth | undefined,
): { url: URL; method: string; headers: Record<string, string>; body?: string } {
  const url = new URL(challenge.params.realm as string);
  const service = challenge.params.service;
  if (auth?.identitytoken !== undefined) {
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: auth.identitytoken,
      client_id: 'distroless-contents',
      scope,
      ...(service !== undefined && { service }),
    });
    return {
      url,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    };
  }
  if (service !== undefined) url.searchParams.set('service', service);
  url.searchParams.set('scope', scope);
  const basic = basicAuthorization(auth);
  return { url, method: 'GET', headers: basic ? { authorization: basic } : {} };
}

/** The token of a token endpoint's answer: `token`, or OAuth2's `access_token`. */
export function tokenOf(answer: unknown): string | undefined {
  const { token, access_token: accessToken } = (answer ?? {}) as { token?: unknown; access_token?: unknown };
  if (typeof token === 'string' && token !== '') return token;
  if (typeof accessToken === 'string' && accessToken !== '') return accessToken;
  return undefined;
}
