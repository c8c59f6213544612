import { describe, expect, it } from 'vitest';
import { parseChallenges, tokenRequest } from '../../src/sources/registry-auth.js';

describe('WWW-Authenticate challenges and token requests', () => {
  it('parses a Bearer challenge with quoted parameters, commas inside quotes and escapes', () => {
    expect(
      parseChallenges(
        'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.example/token',
          service: 'registry.example',
          scope: 'repository:a/b:pull,push',
        },
      },
    ]);
    expect(parseChallenges('Basic realm="a \\"quoted\\" realm"')).toEqual([
      { scheme: 'basic', params: { realm: 'a "quoted" realm' } },
    ]);
  });

  it('splits several challenges and reads bare values', () => {
    expect(parseChallenges('Basic realm=simple, Bearer realm="https://t/x", service=svc')).toEqual([
      { scheme: 'basic', params: { realm: 'simple' } },
      { scheme: 'bearer', params: { realm: 'https://t/x', service: 'svc' } },
    ]);
  });

  it('asks the token server as the docker CLI does: GET with Basic, or an OAuth2 POST for an identity token', () => {
    const challenge = { scheme: 'bearer', params: { realm: 'https://t.example/token', service: 'reg' } };
    const basic = tokenRequest(challenge, 'repository:a:pull', {
      username: 'u',
      password: 'p',
      serveraddress: 'reg',
    });
    expect(basic.method).toBe('GET');
    expect(basic.url.href).toBe('https://t.example/token?service=reg&scope=repository%3Aa%3Apull');
    expect(basic.headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    const anonymous = tokenRequest(challenge, 'repository:a:pull', undefined);
    expect(anonymous.headers).toEqual({});
    const oauth = tokenRequest(challenge, 'repository:a:pull', {
      identitytoken: 'tok',
      serveraddress: 'reg',
    });
    expect(oauth.method).toBe('POST');
    expect(new URLSearchParams(oauth.body)).toEqual(
      new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: 'tok',
        client_id: 'distroless-contents',
        scope: 'repository:a:pull',
        service: 'reg',
      }),
    );
  });
});
