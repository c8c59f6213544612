import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/manifest.js';
import { runCli } from '../support/cli.js';
import { debianRoot } from '../support/debian-root.js';
import { startForwardProxy } from '../support/forward-proxy.js';
import { readDumpTree } from '../support/image-tree.js';
import {
  type LayerCompression,
  type LayoutImage,
  pushLayout,
  writeImageLayout,
} from '../support/layout-writer.js';
import { manifestTree, type OracleTree, oracleDifferences, oracleTree } from '../support/oracle.js';
import { type RegistryServer, startRegistry } from '../support/registry-server.js';
import { makeTestCertificates } from '../support/test-certificates.js';
import { startTokenServer, type TokenServer } from '../support/token-server.js';

// docker:// against Debian's docker-registry on 127.0.0.1, with no engine anywhere (DOCKER_HOST points
// nowhere): no auth, htpasswd Basic auth, token auth from a test-owned token server, and TLS from a test CA.
// The images are built here from files (a slice of a debootstrap root, and a hand-made layer with a
// whiteout, an opaque folder, a hardlink and odd owners and modes) and pushed by skopeo; the oracle is
// skopeo copy + umoci unpack of the same image from the same registry, compared entry by entry.

const NO_ENGINE = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
const USER = 'ci-user';
const PASSWORD = 'ci-password';
const CREDS = `${USER}:${PASSWORD}`;
const ARCH = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch;
const OTHER_ARCH = ARCH === 'arm64' ? 'amd64' : 'arm64';

let work: string;
let plain: RegistryServer;
let basic: RegistryServer;
let token: RegistryServer;
let tokens: TokenServer;
let secure: RegistryServer;
let certsDir: string | undefined;
/** Whether the test made /etc/docker/certs.d itself, and so removes it again. */
let madeCertsD = false;
/** An empty docker CLI config: no login at all. */
let noLogin: string;
const oracles = new Map<string, Promise<OracleTree>>();

function oracle(remote: string, arch?: string): Promise<OracleTree> {
  const key = `${remote} ${arch ?? ''}`;
  if (!oracles.has(key)) {
    oracles.set(key, oracleTree({ registry: remote, user: USER, password: PASSWORD, ...(arch && { arch }) }));
  }
  return oracles.get(key) as Promise<OracleTree>;
}

type LayerEntry = Parameters<tar.Pack['entry']>[0] & { content?: string };

async function layerTar(entries: readonly LayerEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const { content, ...header } of entries) {
    pack.entry({ mtime: new Date('2001-02-03T04:05:06Z'), ...header }, content ?? '');
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Docker CLI config folder with `config` as its config.json. */
async function dockerConfig(name: string, config: unknown): Promise<string> {
  const dir = join(work, 'configs', name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

function auths(host: string, user = USER, password = PASSWORD) {
  return { auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } };
}

let outputs = 0;
async function extract(source: string, options: { args?: string[]; env?: Record<string, string> } = {}) {
  const out = join(work, 'out', `dump-${outputs++}`);
  const result = await runCli(
    ['extract', source, '-o', out, '--manifest', `${out}.json`, '--quiet', ...(options.args ?? [])],
    { env: { ...NO_ENGINE, DOCKER_CONFIG: noLogin, ...options.env } },
  );
  const manifest =
    result.exitCode === 0 ? (JSON.parse(await readFile(`${out}.json`, 'utf8')) as Manifest) : undefined;
  return {
    code: result.exitCode,
    stderr: String(result.stderr).trim(),
    stdout: String(result.stdout),
    out,
    manifest,
  };
}

async function expectOracle(
  source: string,
  remote: string,
  options: Parameters<typeof extract>[1] & { arch?: string } = {},
) {
  const result = await extract(source, options);
  expect([result.code, result.stderr]).toEqual([0, '']);
  const expected = await oracle(remote, options.arch);
  expect(oracleDifferences(expected, await readDumpTree(result.out, { xattrs: true }))).toEqual([]);
  expect(oracleDifferences(expected, manifestTree(result.manifest?.entries ?? []))).toEqual([]);
  return result.manifest as Manifest;
}

const images: Record<string, LayoutImage[]> = {};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-registry-source-'));
  await mkdir(join(work, 'out'));
  noLogin = await dockerConfig('none', {});
  const root = await debianRoot();
  const { stdout: base } = await execa(
    'tar',
    ['--numeric-owner', '--xattrs', '-C', root, '-cf', '-', 'etc', 'usr/bin', 'var/lib/dpkg'],
    { encoding: 'buffer' },
  );
  const upper = await layerTar([
    { name: 'etc/.wh.debian_version' },
    { name: 'etc/apt/.wh..wh..opq' },
    { name: 'etc/apt/sources.list', mode: 0o644, content: 'deb http://example.invalid/ stable main\n' },
    { name: 'app/', type: 'directory', mode: 0o750, uid: 65532, gid: 65532 },
    { name: 'app/run', mode: 0o4755, uid: 65532, gid: 1000, content: '#!/bin/false\n' },
    { name: 'app/run-too', type: 'link', linkname: 'app/run', mode: 0o4755, uid: 65532, gid: 1000 },
    { name: 'app/latest', type: 'symlink', linkname: 'run', mode: 0o777 },
  ]);
  const config = { User: '65532', Env: ['PATH=/usr/bin'], Entrypoint: ['/app/run'] };
  images.single = [{ os: 'linux', architecture: ARCH, layers: [Buffer.from(base), upper], config }];
  images.multi = [
    { os: 'linux', architecture: ARCH, layers: [upper], config },
    {
      os: 'linux',
      architecture: OTHER_ARCH,
      layers: [await layerTar([{ name: 'platform.txt', content: `${OTHER_ARCH}\n` }])],
    },
  ];
  const layout = async (name: string, compression: LayerCompression, which: string) => {
    const dir = join(work, 'layouts', name);
    await writeImageLayout(dir, name, images[which] as LayoutImage[], compression);
    return dir;
  };
  const gzip = await layout('gzip', 'gzip', 'single');
  const zstd = await layout('zstd', 'zstd', 'single');
  const none = await layout('none', 'none', 'single');
  const multi = await layout('multi', 'gzip', 'multi');

  plain = await startRegistry(USER, PASSWORD, { auth: 'none' });
  basic = await startRegistry(USER, PASSWORD);
  tokens = await startTokenServer(work, USER, PASSWORD);
  token = await startRegistry(USER, PASSWORD, {
    auth: {
      realm: tokens.realm,
      service: tokens.service,
      issuer: tokens.issuer,
      rootCertBundle: tokens.certificate,
    },
  });
  const certificates = await makeTestCertificates(join(work, 'certs'));
  secure = await startRegistry(USER, PASSWORD, {
    auth: 'none',
    tls: { certificate: join(certificates.server, 'cert.pem'), key: join(certificates.server, 'key.pem') },
  });
  certsDir = join('/etc/docker/certs.d', secure.host);
  madeCertsD = !existsSync('/etc/docker/certs.d');
  await pushLayout(gzip, 'gzip', `${plain.host}/test/app:gzip`);
  await pushLayout(zstd, 'zstd', `${plain.host}/test/app:zstd`);
  await pushLayout(none, 'none', `${plain.host}/test/app:plain`);
  await pushLayout(gzip, 'gzip', `${plain.host}/test/app:v2s2`, { format: 'v2s2' });
  await pushLayout(multi, 'multi', `${plain.host}/test/multi:1`);
  await pushLayout(gzip, 'gzip', `${basic.host}/test/app:gzip`, { creds: CREDS });
  await pushLayout(gzip, 'gzip', `${token.host}/test/app:gzip`, { creds: CREDS });
  await pushLayout(gzip, 'gzip', `${secure.host}/test/app:gzip`);
}, 600_000);

afterAll(async () => {
  for (const server of [plain, basic, token, secure]) await server?.stop();
  await tokens?.close();
  if (certsDir) await rm(certsDir, { recursive: true, force: true });
  if (madeCertsD) await rmdir('/etc/docker/certs.d').catch(() => {});
  if (work) await rm(work, { recursive: true, force: true });
});

async function manifestOf(host: string, name: string, ref: string, accept: string) {
  const response = await fetch(`http://${host}/v2/${name}/manifests/${ref}`, { headers: { accept } });
  const digest = response.headers.get('docker-content-digest') as string;
  return {
    digest,
    body: (await response.json()) as {
      mediaType: string;
      layers?: { mediaType: string }[];
      config?: { digest: string };
    },
  };
}

describe('docker:// without an engine equals skopeo + umoci unpack of the same image', () => {
  it.each([
    ['gzip', 'application/vnd.oci.image.layer.v1.tar+gzip'],
    ['zstd', 'application/vnd.oci.image.layer.v1.tar+zstd'],
    ['plain', 'application/vnd.oci.image.layer.v1.tar'],
    ['v2s2', 'application/vnd.docker.image.rootfs.diff.tar.gzip'],
  ])('%s layers', async (tag, layerType) => {
    const remote = `${plain.host}/test/app:${tag}`;
    const { digest, body } = await manifestOf(
      plain.host,
      'test/app',
      tag,
      'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
    );
    expect(body.layers?.map((layer) => layer.mediaType)).toEqual([layerType, layerType]);
    const manifest = await expectOracle(`docker://${remote}`, remote);
    expect(manifest.method).toBe('fast');
    const { layers, efficiency, ...image } = manifest.image ?? {};
    // Layer facts as from every source that reads layers: one record per layer of the manifest pulled.
    expect(layers?.filter((layer) => !layer.empty_layer)).toHaveLength(2);
    expect(efficiency?.score).toBeGreaterThan(0);
    expect(image).toEqual({
      reference: `docker://${remote}`,
      id: body.config?.digest,
      digest,
      platform: `linux/${ARCH}`,
      user: '65532',
      workdir: '',
      env: ['PATH=/usr/bin'],
      entrypoint: ['/app/run'],
      cmd: null,
    });
  });

  it('by digest, and a digest the registry lacks is one line naming the image', async () => {
    const remote = `${plain.host}/test/app:gzip`;
    const { digest } = await manifestOf(
      plain.host,
      'test/app',
      'gzip',
      'application/vnd.oci.image.manifest.v1+json',
    );
    const manifest = await expectOracle(`docker://${plain.host}/test/app@${digest}`, remote);
    expect(manifest.image.digest).toBe(digest);
    const missing = `sha256:${'0'.repeat(64)}`;
    const result = await extract(`docker://${plain.host}/test/app@${missing}`);
    expect([result.code, result.stderr]).toEqual([
      1,
      `error: the registry ${plain.host} has no image ${plain.host}/test/app@${missing} (HTTP 404: MANIFEST_UNKNOWN: manifest unknown); check the name and the tag or digest`,
    ]);
  });

  it('a two-platform index: the host by default, --platform picks, a missing one lists them', async () => {
    const remote = `${plain.host}/test/multi:1`;
    const host = await expectOracle(`docker://${remote}`, remote, { arch: ARCH });
    expect(host.image.platform).toBe(`linux/${ARCH}`);
    const other = await expectOracle(`docker://${remote}`, remote, {
      arch: OTHER_ARCH,
      args: ['--platform', `linux/${OTHER_ARCH}`],
    });
    expect(other.image.platform).toBe(`linux/${OTHER_ARCH}`);
    expect(other.entries.map((entry) => entry.path)).toEqual(['platform.txt']);
    const result = await extract(`docker://${remote}`, { args: ['--platform', 'linux/s390x'] });
    expect([result.code, result.stderr]).toEqual([
      1,
      `error: the image index in docker://${remote} has no image for linux/s390x; it has linux/${ARCH}, linux/${OTHER_ARCH}; choose one with --platform`,
    ]);
  });

  it('report, diff and a batch take docker:// as they take oci:', async () => {
    const gzip = `docker://${plain.host}/test/app:gzip`;
    const env = { ...NO_ENGINE, DOCKER_CONFIG: noLogin };
    const report = await runCli(['report', gzip, '--json', '--quiet'], { env });
    expect(report.exitCode).toBe(0);
    const parsed = JSON.parse(String(report.stdout));
    expect(parsed.summary.entries).toBe((await oracle(`${plain.host}/test/app:gzip`)).entries.size);
    const diff = await runCli(['diff', gzip, `docker://${plain.host}/test/app:zstd`, '--quiet'], { env });
    expect([diff.exitCode, String(diff.stderr)]).toEqual([0, '']);
    const batch = await runCli(
      [
        'extract',
        gzip,
        `docker://${plain.host}/test/app:v2s2`,
        '--output-dir',
        join(work, 'batch'),
        '--quiet',
      ],
      { env },
    );
    expect([batch.exitCode, String(batch.stdout).trim().split('\n').at(-1)]).toEqual([0, '2 done, 0 failed']);
  });
});

describe('logins as the docker CLI does them', () => {
  it('Basic auth: no login is one line naming the registry and docker login; config.json and DOCKER_AUTH_CONFIG log in', async () => {
    const remote = `${basic.host}/test/app:gzip`;
    const anonymous = await extract(`docker://${remote}`);
    expect([anonymous.code, anonymous.stderr]).toEqual([
      1,
      `error: the registry ${basic.host} needs a login to pull ${remote} (HTTP 401: UNAUTHORIZED: authentication required); run docker login ${basic.host} (or set DOCKER_AUTH_CONFIG)`,
    ]);
    await expectOracle(`docker://${remote}`, remote, {
      env: { DOCKER_CONFIG: await dockerConfig('basic', auths(basic.host)) },
    });
    await expectOracle(`docker://${remote}`, remote, {
      env: { DOCKER_AUTH_CONFIG: JSON.stringify(auths(basic.host)) },
    });
    const wrong = await dockerConfig('basic-wrong', auths(basic.host, USER, 'not-the-password'));
    const refused = await extract(`docker://${remote}`, { env: { DOCKER_CONFIG: wrong } });
    expect([refused.code, refused.stderr]).toEqual([
      1,
      `error: the registry ${basic.host} refused the login from ${join(wrong, 'config.json')} for ${remote} (HTTP 401: UNAUTHORIZED: authentication required); run docker login ${basic.host} again`,
    ]);
  });

  it('a credential helper (credHelpers) gives the login', async () => {
    const bin = join(work, 'bin');
    await mkdir(bin, { recursive: true });
    const helper = join(bin, 'docker-credential-test');
    await writeFile(
      helper,
      `#!/bin/sh\nread server\n[ "$server" = "${basic.host}" ] || { echo "credentials not found in native keychain"; exit 1; }\necho '{"Username":"${USER}","Secret":"${PASSWORD}"}'\n`,
      { mode: 0o755 },
    );
    const remote = `${basic.host}/test/app:gzip`;
    await expectOracle(`docker://${remote}`, remote, {
      env: {
        DOCKER_CONFIG: await dockerConfig('helper', { credHelpers: { [basic.host]: 'test' } }),
        PATH: `${bin}:${process.env.PATH}`,
      },
    });
  });

  it('token auth: a Bearer token from the realm the challenge names, fetched once for the whole pull', async () => {
    const remote = `${token.host}/test/app:gzip`;
    const config = await dockerConfig('token', auths(token.host));
    // The oracle's own pull (skopeo) asks for tokens too: done first, so only the dump's are counted.
    await oracle(remote);
    const before = tokens.requests.length;
    await expectOracle(`docker://${remote}`, remote, { env: { DOCKER_CONFIG: config } });
    // Manifest, config and two layers, fetched by one process: one token for them all.
    expect(tokens.requests.slice(before)).toEqual([
      `?service=${tokens.service}&scope=${encodeURIComponent('repository:test/app:pull')}`,
    ]);
    const anonymous = await extract(`docker://${remote}`);
    expect([anonymous.code, anonymous.stderr]).toEqual([
      1,
      `error: the registry ${token.host} gives no anonymous token for ${remote} (HTTP 401); run docker login ${token.host}`,
    ]);
    const wrong = await dockerConfig('token-wrong', auths(token.host, USER, 'nope'));
    const refused = await extract(`docker://${remote}`, { env: { DOCKER_CONFIG: wrong } });
    expect([refused.code, refused.stderr]).toEqual([
      1,
      `error: the registry ${token.host} refused the login from ${join(wrong, 'config.json')} (its token server said HTTP 401); run docker login ${token.host} again`,
    ]);
  });
});

describe('TLS and reachability', () => {
  it('a loopback registry with a certificate of an unknown CA is insecure by default, as the engine has it', async () => {
    const remote = `${secure.host}/test/app:gzip`;
    await expectOracle(`docker://${remote}`, remote);
  });

  it('--tls-verify=true checks it: unknown CA is one line; its CA in /etc/docker/certs.d/HOST/ca.crt makes it trusted', async () => {
    const remote = `${secure.host}/test/app:gzip`;
    const untrusted = await extract(`docker://${remote}`, { args: ['--tls-verify=true'] });
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(
      new RegExp(
        `^error: the registry ${secure.host}'s certificate is not trusted \\(.+\\); put its CA in /etc/docker/certs\\.d/${secure.host}/ca\\.crt, or use --tls-verify=false for a registry you trust$`,
      ),
    );
    await mkdir(certsDir as string, { recursive: true });
    await execa('cp', [join(work, 'certs', 'ca.pem'), join(certsDir as string, 'ca.crt')]);
    await expectOracle(`docker://${remote}`, remote, { args: ['--tls-verify=true'] });
  });

  it('a plain-HTTP registry with --tls-verify=true is one line; --tls-verify takes true or false only', async () => {
    const result = await extract(`docker://${plain.host}/test/app:gzip`, { args: ['--tls-verify=true'] });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^error: the registry ${plain.host} does not speak HTTPS \\(.+\\); for a plain-HTTP registry you trust use --tls-verify=false$`,
      ),
    );
    const usage = await extract(`docker://${plain.host}/test/app:gzip`, { args: ['--tls-verify=maybe'] });
    expect([usage.code, usage.stderr]).toEqual([
      2,
      'error: Invalid --tls-verify "maybe" (option tlsVerify): use --tls-verify=true or --tls-verify=false.',
    ]);
  });

  it('an unreachable registry is one line, and nothing is left', async () => {
    const server = await startRegistry(USER, PASSWORD, { auth: 'none' });
    const host = server.host;
    await server.stop();
    const result = await extract(`docker://${host}/test/app:1`);
    expect([result.code, result.stderr]).toEqual([
      1,
      `error: cannot reach the registry ${host} (connect ECONNREFUSED ${host}); check the host and port, and that the registry is up`,
    ]);
  });
});

describe('proxies, as the engine reads them', () => {
  it('HTTP_PROXY and HTTPS_PROXY carry a registry that is not loopback (HTTPS through CONNECT); NO_PROXY and loopback skip them', async () => {
    // Go's rule: loopback is never proxied, so the registry listens on one of the machine's other addresses.
    const address = Object.values(networkInterfaces())
      .flat()
      .find((entry) => entry && entry.family === 'IPv4' && !entry.internal)?.address;
    expect(address).toBeDefined();
    const certificates = join(work, 'certs', 'server');
    const http = await startRegistry(USER, PASSWORD, { auth: 'none', address });
    const https = await startRegistry(USER, PASSWORD, {
      auth: 'none',
      address,
      tls: { certificate: join(certificates, 'cert.pem'), key: join(certificates, 'key.pem') },
    });
    const proxy = await startForwardProxy();
    try {
      const gzip = join(work, 'layouts', 'gzip');
      await pushLayout(gzip, 'gzip', `${http.host}/test/app:gzip`);
      await pushLayout(gzip, 'gzip', `${https.host}/test/app:gzip`);
      const args = ['--tls-verify=false'];
      await expectOracle(`docker://${http.host}/test/app:gzip`, `${http.host}/test/app:gzip`, {
        args,
        env: { HTTP_PROXY: proxy.url },
      });
      expect(proxy.requests).toContain(`GET http://${http.host}/v2/test/app/manifests/gzip`);
      proxy.requests.length = 0;
      await expectOracle(`docker://${https.host}/test/app:gzip`, `${https.host}/test/app:gzip`, {
        args,
        env: { HTTPS_PROXY: proxy.url },
      });
      expect(proxy.requests.length).toBeGreaterThan(0);
      expect(new Set(proxy.requests)).toEqual(new Set([`CONNECT ${https.host}`]));
      proxy.requests.length = 0;
      await expectOracle(`docker://${https.host}/test/app:gzip`, `${https.host}/test/app:gzip`, {
        args,
        env: { HTTPS_PROXY: proxy.url, NO_PROXY: address as string },
      });
      await expectOracle(`docker://${plain.host}/test/app:gzip`, `${plain.host}/test/app:gzip`, {
        env: { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url },
      });
      expect(proxy.requests).toEqual([]);
    } finally {
      await proxy.close();
      await http.stop();
      await https.stop();
    }
  });
});
