import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DOCKER_HUB_AUTH_KEY, resolveRegistryAuth } from '../../src/docker/credentials.js';
import { DistrolessContentsError } from '../../src/errors.js';

// Real config.json files in a temporary DOCKER_CONFIG, and real docker-credential-* programs on a temporary PATH.

let work: string;
let configDir: string;
let binDir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-credentials-'));
  binDir = join(work, 'bin');
  await mkdir(binDir);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

let run = 0;
beforeEach(async () => {
  configDir = join(work, `config-${++run}`);
  await mkdir(configDir);
  env = { ...process.env, DOCKER_CONFIG: configDir, PATH: `${binDir}:${process.env.PATH ?? ''}` };
});

async function writeConfig(config: unknown): Promise<string> {
  const path = join(configDir, 'config.json');
  await writeFile(path, typeof config === 'string' ? config : JSON.stringify(config));
  return path;
}

/** A credential helper as docker-credential-helpers' protocol has it: action in argv, server URL on stdin. */
async function writeHelper(name: string, script: string): Promise<string> {
  const path = join(binDir, `docker-credential-${name}`);
  await writeFile(path, `#!/bin/sh\n${script}\n`);
  await chmod(path, 0o755);
  return path;
}

/** The error a promise rejects with; fails the test when it resolves or rejects with a foreign error. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DistrolessContentsError);
  return error as Error;
}

const basic = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

describe('credentials from config.json auths', () => {
  it('decodes auth (base64 user:password) filed under host:port, keeping a colon in the password', async () => {
    const path = await writeConfig({ auths: { '127.0.0.1:5000': { auth: basic('ci', 'pa:ss') } } });
    expect(await resolveRegistryAuth('127.0.0.1:5000', { env })).toEqual({
      auth: { username: 'ci', password: 'pa:ss', serveraddress: '127.0.0.1:5000' },
      source: path,
    });
    expect(await resolveRegistryAuth('127.0.0.1:5001', { env })).toBeUndefined();
  });

  it("files Docker Hub's login under https://index.docker.io/v1/, for no registry, docker.io and index.docker.io", async () => {
    await writeConfig({ auths: { [DOCKER_HUB_AUTH_KEY]: { auth: basic('hubuser', 'hubpass') } } });
    for (const registry of [undefined, 'docker.io', 'index.docker.io']) {
      expect((await resolveRegistryAuth(registry, { env }))?.auth).toEqual({
        username: 'hubuser',
        password: 'hubpass',
        serveraddress: DOCKER_HUB_AUTH_KEY,
      });
    }
    expect(await resolveRegistryAuth('registry.example', { env })).toBeUndefined();
  });

  it('finds a login filed by an older CLI under a URL, and an identity token', async () => {
    await writeConfig({
      auths: {
        'https://127.0.0.1:5000/v1/': { auth: basic('old', 'style') },
        'registry.example': { identitytoken: 'tok-123' },
      },
    });
    expect((await resolveRegistryAuth('127.0.0.1:5000', { env }))?.auth).toMatchObject({
      username: 'old',
      password: 'style',
    });
    expect((await resolveRegistryAuth('registry.example', { env }))?.auth).toEqual({
      identitytoken: 'tok-123',
      serveraddress: 'registry.example',
    });
  });

  it('means anonymous with no config.json or an empty entry, and names the file when it is broken', async () => {
    expect(await resolveRegistryAuth('127.0.0.1:5000', { env })).toBeUndefined();
    await writeConfig({ auths: { '127.0.0.1:5000': {} } });
    expect(await resolveRegistryAuth('127.0.0.1:5000', { env })).toBeUndefined();
    const path = await writeConfig('{"auths": {');
    const error = await failure(resolveRegistryAuth('127.0.0.1:5000', { env }));
    expect(error.message).toContain(path);
    expect(error.message).not.toContain('\n');
  });
});

describe('credentials from docker-credential-* helpers', () => {
  it('runs credsStore as `docker-credential-<name> get` with the server URL on stdin', async () => {
    const seen = join(work, `seen-${run}`);
    await writeHelper(
      `store${run}`,
      `echo "$1" > ${seen}; cat >> ${seen}; echo '{"ServerURL":"x","Username":"helper-user","Secret":"helper-secret"}'`,
    );
    // An auths entry is ignored when a store is configured, as in the docker CLI.
    await writeConfig({
      credsStore: `store${run}`,
      auths: { 'reg.test:5000': { auth: basic('file', 'file') } },
    });
    expect(await resolveRegistryAuth('reg.test:5000', { env })).toEqual({
      auth: { username: 'helper-user', password: 'helper-secret', serveraddress: 'reg.test:5000' },
      source: `docker-credential-store${run}`,
    });
    expect(await readFile(seen, 'utf8')).toBe('get\nreg.test:5000');
    await resolveRegistryAuth(undefined, { env });
    expect(await readFile(seen, 'utf8')).toBe(`get\n${DOCKER_HUB_AUTH_KEY}`);
  });

  it('prefers credHelpers[host] to credsStore, and only for that host', async () => {
    await writeHelper(`one${run}`, `echo '{"Username":"from-one","Secret":"s1"}'`);
    await writeHelper(`two${run}`, `echo '{"Username":"from-two","Secret":"s2"}'`);
    await writeConfig({ credsStore: `one${run}`, credHelpers: { 'reg.test': `two${run}` } });
    expect((await resolveRegistryAuth('reg.test', { env }))?.auth.username).toBe('from-two');
    expect((await resolveRegistryAuth('other.test', { env }))?.auth.username).toBe('from-one');
  });

  it('reads the <token> user name as an identity token', async () => {
    await writeHelper(`token${run}`, `echo '{"Username":"<token>","Secret":"refresh-token"}'`);
    await writeConfig({ credHelpers: { 'reg.test': `token${run}` } });
    expect((await resolveRegistryAuth('reg.test', { env }))?.auth).toEqual({
      identitytoken: 'refresh-token',
      serveraddress: 'reg.test',
    });
  });

  it('takes "credentials not found" as anonymous', async () => {
    await writeHelper(`empty${run}`, 'echo "credentials not found in native keychain"; exit 1');
    await writeConfig({ credsStore: `empty${run}` });
    expect(await resolveRegistryAuth('reg.test', { env })).toBeUndefined();
  });

  it('fails in one line naming the helper and the registry when the helper fails or is missing', async () => {
    await writeHelper(`broken${run}`, 'echo "keychain is locked" >&2; exit 3');
    await writeConfig({ credHelpers: { 'reg.test': `broken${run}`, 'gone.test': 'not-installed-anywhere' } });
    const broken = await failure(resolveRegistryAuth('reg.test', { env }));
    expect(broken.message).toMatch(/docker-credential-broken\d+ .*reg\.test.*keychain is locked/);
    const missing = await failure(resolveRegistryAuth('gone.test', { env }));
    expect(missing.message).toMatch(/docker-credential-not-installed-anywhere is not on PATH.*gone\.test/);
    for (const error of [broken, missing]) expect(error.message).not.toContain('\n');
  });
});

describe('DOCKER_AUTH_CONFIG', () => {
  const entry = (user: string, password: string) => ({
    auth: Buffer.from(`${user}:${password}`).toString('base64'),
  });

  it('comes before config.json and its helpers, and falls through to them for other registries', async () => {
    await writeConfig({
      auths: { 'reg.example': entry('file-user', 'file-pw'), 'other.example': entry('o', 'p') },
    });
    const inline = JSON.stringify({ auths: { 'reg.example': entry('env-user', 'env-pw') } });
    expect(await resolveRegistryAuth('reg.example', { env: { ...env, DOCKER_AUTH_CONFIG: inline } })).toEqual(
      {
        auth: { username: 'env-user', password: 'env-pw', serveraddress: 'reg.example' },
        source: 'DOCKER_AUTH_CONFIG',
      },
    );
    expect(
      (await resolveRegistryAuth('other.example', { env: { ...env, DOCKER_AUTH_CONFIG: inline } }))?.auth
        .username,
    ).toBe('o');
  });

  it('that is not JSON is one line saying what to set', async () => {
    await expect(
      resolveRegistryAuth('reg.example', { env: { ...env, DOCKER_AUTH_CONFIG: '{nope' } }),
    ).rejects.toThrow(
      /^DOCKER_AUTH_CONFIG is not JSON \(.+\); set it to a config\.json's \{"auths": \{\.\.\.\}\} or unset it\.$/,
    );
  });
});
