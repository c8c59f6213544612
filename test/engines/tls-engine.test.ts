import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { connectDocker, pingEngine } from '../../src/docker/client.js';
import { extractImage } from '../../src/index.js';
import type { Manifest } from '../../src/manifest.js';
import { runCli } from '../support/cli.js';
import { hostBridgeExists } from '../support/engine-bridge.js';
import { freeLoopbackPort } from '../support/free-port.js';
import { compareTrees, type DiskEntry, readDumpTree } from '../support/image-tree.js';
import { docker, testLabel } from '../support/leftovers.js';
import { makeTestCertificates } from '../support/test-certificates.js';
import { startTlsEngine, type TlsEngine } from '../support/tls-engine.js';

// A second dockerd on tcp://127.0.0.1 with mutual TLS (its own data and exec roots, no networking), reached
// through DOCKER_HOST + DOCKER_TLS_VERIFY + DOCKER_CERT_PATH and through docker contexts made by the real CLI.

/** Exists on the TLS engine only: an extraction that finds it talked to that engine. */
const TLS_ONLY = 'distroless-contents-test/tls-only:1';

let engine: TlsEngine;
let work: string;
let direct: Map<string, DiskEntry>;
const label = testLabel();
/** The variables that would otherwise pick an engine, cleared so each test sets only its own. */
const CLEAR = { DOCKER_HOST: '', DOCKER_CONTEXT: '', DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '' };

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-tls-test-'));
  engine = await startTlsEngine();
  await execa('docker', ['save', TEST_IMAGES.shell, TEST_IMAGES.staticNonroot]).pipe(
    'docker',
    ['load', '--quiet'],
    { env: engine.env },
  );
  await execa('docker', ['tag', TEST_IMAGES.staticNonroot, TLS_ONLY], { env: engine.env });
  const output = join(work, 'direct');
  await extractImage(TEST_IMAGES.staticNonroot, {
    output,
    base: TEST_IMAGES.shell,
    pull: 'never',
    labels: label.labels,
  });
  direct = await readDumpTree(output);
});

afterAll(async () => {
  await engine?.stop();
  await rm(work, { recursive: true, force: true });
});

async function cli(args: string[], env: Record<string, string>) {
  const result = await runCli(args, { env: { ...CLEAR, ...env } });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** Extracts TLS_ONLY with the given settings and checks the dump equals the main engine's direct one. */
async function extractThrough(name: string, env: Record<string, string>): Promise<void> {
  const output = join(work, name);
  const result = await cli(
    [
      'extract',
      TLS_ONLY,
      '--base',
      TEST_IMAGES.shell,
      '--pull',
      'never',
      '-o',
      output,
      '--manifest',
      `${output}.json`,
      '--label',
      label.arg,
    ],
    env,
  );
  expect(result.exitCode, result.stderr).toBe(0);
  const manifest = JSON.parse(await readFile(`${output}.json`, 'utf8')) as Manifest;
  expect(manifest.image.reference).toBe(TLS_ONLY);
  expect(compareTrees(direct, await readDumpTree(output), { owners: true })).toEqual([]);
  // Nothing left on the TLS engine, asked through the docker CLI rather than the code under test.
  const { stdout } = await execa('docker', ['ps', '--all', '--quiet', '--filter', `label=${label.arg}`], {
    env: engine.env,
  });
  expect(stdout).toBe('');
  const images = await execa('docker', ['images', '--quiet', '--filter', `label=${label.arg}`], {
    env: engine.env,
  });
  expect(images.stdout).toBe('');
}

/** A DOCKER_CONFIG with contexts made by the real docker CLI. */
async function configWithContext(name: string, dockerEndpoint: string): Promise<string> {
  const config = join(work, `config-${name}`);
  await mkdir(config, { recursive: true });
  await execa('docker', ['context', 'create', name, '--docker', dockerEndpoint], {
    env: { ...CLEAR, DOCKER_CONFIG: config },
  });
  return config;
}

function tlsEndpoint(): string {
  const certs = engine.clientCerts;
  return `host=${engine.host},ca=${certs}/ca.pem,cert=${certs}/cert.pem,key=${certs}/key.pem`;
}

describe('an engine on tcp://127.0.0.1 with mutual TLS', () => {
  it("leaves the main engine's docker0 bridge in place", async () => {
    expect(await hostBridgeExists()).toBe(true);
  });

  it('is not the main engine: the image under study exists on the TLS engine only', async () => {
    await expect(docker.getImage(TLS_ONLY).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('extracts through DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH', async () => {
    await extractThrough('docker-host', engine.env);
  });

  it("verifies the engine's certificate: a CA that did not sign it is refused, in one line naming the engine", async () => {
    const other = await makeTestCertificates(join(work, 'other-ca'));
    const mixed = join(work, 'untrusting');
    await mkdir(mixed);
    await copyFile(join(other.client, 'ca.pem'), join(mixed, 'ca.pem'));
    for (const name of ['cert.pem', 'key.pem'])
      await copyFile(join(engine.clientCerts, name), join(mixed, name));
    const result = await cli(['extract', TLS_ONLY, '-o', join(work, 'refused'), '--quiet'], {
      ...engine.env,
      DOCKER_CERT_PATH: mixed,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr.split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`error: No Docker engine answers at ${engine.host} (DOCKER_HOST) (`);
    expect(result.stderr).toMatch(/certificate/i);
  });

  it('extracts through the context named by DOCKER_CONTEXT', async () => {
    const config = await configWithContext('dc-tls', tlsEndpoint());
    await extractThrough('docker-context', { DOCKER_CONFIG: config, DOCKER_CONTEXT: 'dc-tls' });
  });

  it('extracts through the current context that `docker context use` recorded in config.json', async () => {
    const config = await configWithContext('dc-current', tlsEndpoint());
    await execa('docker', ['context', 'use', 'dc-current'], { env: { ...CLEAR, DOCKER_CONFIG: config } });
    const recorded = JSON.parse(await readFile(join(config, 'config.json'), 'utf8')) as {
      currentContext?: string;
    };
    expect(recorded.currentContext).toBe('dc-current');
    await extractThrough('current-context', { DOCKER_CONFIG: config });
  });

  it('honours a context that skips verification: no CA needed then, and refused without the skip', async () => {
    const certs = engine.clientCerts;
    const clientOnly = `host=${engine.host},cert=${certs}/cert.pem,key=${certs}/key.pem`;
    const skipping = await configWithContext('dc-skip', `${clientOnly},skip-tls-verify=true`);
    await pingEngine(connectDocker({ ...CLEAR, DOCKER_CONFIG: skipping, DOCKER_CONTEXT: 'dc-skip' }));
    const verifying = await configWithContext('dc-no-ca', clientOnly);
    await expect(
      pingEngine(connectDocker({ ...CLEAR, DOCKER_CONFIG: verifying, DOCKER_CONTEXT: 'dc-no-ca' })),
    ).rejects.toThrow(/docker context "dc-no-ca".*certificate/);
  });

  it('names the context when its engine does not answer, and DOCKER_HOST still wins over it', async () => {
    const port = await freeLoopbackPort();
    const config = await configWithContext('dc-nowhere', `host=tcp://127.0.0.1:${port}`);
    const result = await cli(['extract', TLS_ONLY, '-o', join(work, 'nowhere'), '--quiet'], {
      DOCKER_CONFIG: config,
      DOCKER_CONTEXT: 'dc-nowhere',
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^error: No Docker engine answers at tcp://127\\.0\\.0\\.1:${port} \\(docker context "dc-nowhere", from DOCKER_CONTEXT\\) \\(.*ECONNREFUSED.*\\); `,
      ),
    );
    await extractThrough('host-over-context', {
      ...engine.env,
      DOCKER_CONFIG: config,
      DOCKER_CONTEXT: 'dc-nowhere',
    });
  });
});
