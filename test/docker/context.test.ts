import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectDocker, dockerOptions } from '../../src/docker/client.js';
import { resolveEndpoint } from '../../src/docker/context.js';
import { DistrolessContentsError } from '../../src/errors.js';
import { makeTestCertificates } from '../support/test-certificates.js';

// Which engine the docker CLI would pick, on context stores written by the real `docker context` commands.

let work: string;
/** A DOCKER_CONFIG holding the contexts "plain", "tls" (ca/cert/key) and "skip" (skip-tls-verify). */
let config: string;
let certs: string;
const CLEAR = {
  DOCKER_HOST: '',
  DOCKER_CONTEXT: '',
  DOCKER_TLS_VERIFY: '',
  DOCKER_TLS: '',
  DOCKER_CERT_PATH: '',
};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-context-'));
  config = join(work, 'config');
  await mkdir(config);
  // `docker context create` checks that these parse as PEM certificates and keys.
  certs = (await makeTestCertificates(join(work, 'certs'))).client;
  const cli = (...args: string[]) =>
    execa('docker', args, { env: { ...process.env, ...CLEAR, DOCKER_CONFIG: config } });
  await cli('context', 'create', 'plain', '--docker', 'host=tcp://127.0.0.9:2375');
  await cli(
    'context',
    'create',
    'tls',
    '--docker',
    `host=tcp://tls.example:2376,ca=${certs}/ca.pem,cert=${certs}/cert.pem,key=${certs}/key.pem`,
  );
  await cli('context', 'create', 'skip', '--docker', 'host=tcp://skip.example:2376,skip-tls-verify=true');
  await cli('context', 'create', 'socket', '--docker', 'host=unix:///run/other.sock');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}) => ({ ...CLEAR, DOCKER_CONFIG: config, ...extra });

async function useContext(name: string): Promise<void> {
  await execa('docker', ['context', 'use', name], { env: { ...process.env, ...env() } });
}

function failure(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DistrolessContentsError);
    expect((error as Error).message).not.toContain('\n');
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('resolveEndpoint picks the engine as the docker CLI does', () => {
  it('is the default socket with nothing set', () => {
    expect(resolveEndpoint({ ...CLEAR, DOCKER_CONFIG: join(work, 'absent') })).toEqual({
      host: 'unix:///var/run/docker.sock',
      context: 'default',
      from: 'default',
    });
  });

  it('takes DOCKER_CONTEXT, else the currentContext that `docker context use` writes', async () => {
    await useContext('plain');
    expect(JSON.parse(await readFile(join(config, 'config.json'), 'utf8')).currentContext).toBe('plain');
    expect(resolveEndpoint(env())).toEqual({
      host: 'tcp://127.0.0.9:2375',
      context: 'plain',
      from: 'currentContext',
    });
    expect(resolveEndpoint(env({ DOCKER_CONTEXT: 'socket' }))).toEqual({
      host: 'unix:///run/other.sock',
      context: 'socket',
      from: 'DOCKER_CONTEXT',
    });
    // "default" is the default socket, whatever config.json says.
    expect(resolveEndpoint(env({ DOCKER_CONTEXT: 'default' })).host).toBe('unix:///var/run/docker.sock');
  });

  it('lets DOCKER_HOST win over DOCKER_CONTEXT and currentContext', async () => {
    await useContext('plain');
    expect(resolveEndpoint(env({ DOCKER_HOST: 'unix:///tmp/x.sock', DOCKER_CONTEXT: 'tls' }))).toEqual({
      host: 'unix:///tmp/x.sock',
      context: 'default',
      from: 'DOCKER_HOST',
    });
  });

  it("loads a context's TLS files, and honours skip-tls-verify", () => {
    const tls = resolveEndpoint(env({ DOCKER_CONTEXT: 'tls' }));
    expect(tls.host).toBe('tcp://tls.example:2376');
    expect(tls.tls?.verify).toBe(true);
    for (const name of ['ca', 'cert', 'key'] as const) {
      expect(tls.tls?.[name]?.toString(), name).toBe(readFileSync(join(certs, `${name}.pem`), 'utf8'));
    }
    expect(resolveEndpoint(env({ DOCKER_CONTEXT: 'skip' })).tls).toEqual({ verify: false });
    expect(resolveEndpoint(env({ DOCKER_CONTEXT: 'plain' })).tls).toBeUndefined();
  });

  it('reads DOCKER_TLS_VERIFY, DOCKER_TLS and DOCKER_CERT_PATH for DOCKER_HOST, with the default ports', () => {
    expect(resolveEndpoint(env({ DOCKER_HOST: 'tcp://engine.example' })).host).toBe(
      'tcp://engine.example:2375',
    );
    const verified = resolveEndpoint(
      env({ DOCKER_HOST: 'tcp://engine.example', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs }),
    );
    expect(verified.host).toBe('tcp://engine.example:2376');
    expect(verified.tls?.verify).toBe(true);
    expect(verified.tls?.ca?.toString()).toBe(readFileSync(join(certs, 'ca.pem'), 'utf8'));
    const unverified = resolveEndpoint(env({ DOCKER_HOST: 'tcp://engine.example:2376', DOCKER_TLS: '1' }));
    expect(unverified.tls?.verify).toBe(false);
  });

  it('fails in one line naming what to fix: a missing context, a missing TLS file, an unknown scheme', () => {
    expect(failure(() => resolveEndpoint(env({ DOCKER_CONTEXT: 'nope' }))).message).toMatch(
      /^Docker context "nope" \(from DOCKER_CONTEXT\) does not exist: .*; run docker context ls, or unset DOCKER_CONTEXT\.$/,
    );
    const noCerts = join(work, 'no-certs');
    expect(
      failure(() =>
        resolveEndpoint(
          env({ DOCKER_HOST: 'tcp://h:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: noCerts }),
        ),
      ).message,
    ).toContain(`${noCerts}/ca.pem (ENOENT)`);
    expect(failure(() => resolveEndpoint(env({ DOCKER_HOST: 'fd://3' }))).message).toContain(
      'Unsupported Docker host',
    );
    // The docker CLI would read these as tcp://bogus:2375 and tcp://engine.example:1234, in silence.
    expect(failure(() => resolveEndpoint(env({ DOCKER_HOST: 'bogus' }))).message).toBe(
      'Docker host "bogus" is not a URL: use unix:///path, tcp://host:port or ssh://user@host.',
    );
    expect(failure(() => resolveEndpoint(env({ DOCKER_HOST: 'engine.example:1234' }))).message).toBe(
      'Docker host "engine.example:1234" is not a URL (tcp://engine.example:1234?): use unix:///path, tcp://host:port or ssh://user@host.',
    );
  });
});

describe('connectDocker and dockerOptions', () => {
  // dockerode reads the real process environment on its own, so these set it.
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  const stub = (values: Record<string, string>) => {
    for (const [name, value] of Object.entries({ ...CLEAR, ...values })) vi.stubEnv(name, value);
  };
  const modemOf = (docker: unknown) => (docker as { modem: Record<string, unknown> }).modem;

  it('connects to the context dockerode alone would ignore', () => {
    stub({ DOCKER_CONFIG: config, DOCKER_CONTEXT: 'socket' });
    expect(modemOf(connectDocker())).toMatchObject({ socketPath: '/run/other.sock', host: undefined });
    stub({ DOCKER_CONFIG: config, DOCKER_CONTEXT: 'plain' });
    expect(modemOf(connectDocker())).toMatchObject({ host: '127.0.0.9', port: '2375', protocol: 'http' });
  });

  it('speaks TLS only when asked, as the CLI: not merely because the port is 2376', () => {
    stub({ DOCKER_HOST: 'tcp://127.0.0.9:2376' });
    expect(modemOf(connectDocker())).toMatchObject({ protocol: 'http', ca: undefined });
    stub({ DOCKER_HOST: 'tcp://127.0.0.9:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs });
    expect(modemOf(connectDocker())).toMatchObject({ protocol: 'https' });
  });

  it('reports in one line a DOCKER_CERT_PATH that dockerode cannot read even with TLS off', () => {
    stub({ DOCKER_HOST: 'tcp://127.0.0.1:2375', DOCKER_CERT_PATH: join(work, 'no-certs') });
    expect(failure(() => connectDocker()).message).toMatch(
      /^Cannot set up the Docker client for tcp:\/\/127\.0\.0\.1:2375 \(DOCKER_HOST\) .*check DOCKER_CERT_PATH or unset it\.$/,
    );
  });

  it('maps ssh://user@host:port to dockerode ssh options', () => {
    const options = dockerOptions(resolveEndpoint(env({ DOCKER_HOST: 'ssh://builder@engine.example:2222' })));
    expect(options).toMatchObject({
      protocol: 'ssh',
      host: 'engine.example',
      port: '2222',
      username: 'builder',
    });
  });
});
