import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/sources/registry-client.js';
import { parseRegistrySource, type RegistrySource } from '../../src/sources/registry-reference.js';
import { runCli } from '../support/cli.js';
import { debianRoot } from '../support/debian-root.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { readDumpTree } from '../support/image-tree.js';
import { pushLayout, writeImageLayout } from '../support/layout-writer.js';
import { type OracleTree, oracleDifferences, oracleTree } from '../support/oracle.js';
import { type RegistryServer, startRegistry } from '../support/registry-server.js';

// docker:// through a loopback proxy that breaks one answer of a real registry (docker-registry, no
// auth): a blob cut mid-stream is resumed with Range, a flipped byte is a digest error with nothing
// written, 429s are waited out, a registry that stays down is one line, a stalled blob gives way to ^C.
// No engine: DOCKER_HOST points nowhere.

const NO_ENGINE = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
const ARCH = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch;

let work: string;
let registry: RegistryServer;
let proxy: FaultProxy;
let oracle: OracleTree;
let layers: string[];
let manifestDigest: string;
let image: string;

async function extract(source: string) {
  const out = join(work, 'outputs', `out-${Math.random().toString(16).slice(2)}`);
  const result = await runCli(['extract', source, '-o', out, '--quiet'], {
    env: { ...NO_ENGINE, DOCKER_CONFIG: join(work, 'no-login') },
  });
  return { code: result.exitCode, stderr: String(result.stderr).trim(), out };
}

/** What an interrupted or failed run may not leave: its output, its staging folder, its spilled blobs. */
async function outputsLeft(): Promise<string[]> {
  return readdir(join(work, 'outputs'));
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-registry-faults-'));
  await mkdir(join(work, 'no-login'));
  const root = await debianRoot();
  const { stdout: base } = await execa('tar', ['--numeric-owner', '-C', root, '-cf', '-', 'etc', 'usr/bin'], {
    encoding: 'buffer',
  });
  const { stdout: upper } = await execa('tar', ['--numeric-owner', '-C', root, '-cf', '-', 'usr/sbin'], {
    encoding: 'buffer',
  });
  const layout = join(work, 'layout');
  await writeImageLayout(
    layout,
    'app',
    [{ os: 'linux', architecture: ARCH, layers: [Buffer.from(base), Buffer.from(upper)] }],
    'gzip',
  );
  registry = await startRegistry('u', 'p', { auth: 'none' });
  await pushLayout(layout, 'app', `${registry.host}/test/app:1`);
  const response = await fetch(`http://${registry.host}/v2/test/app/manifests/1`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  manifestDigest = response.headers.get('docker-content-digest') as string;
  layers = ((await response.json()) as { layers: { digest: string }[] }).layers.map((layer) => layer.digest);
  oracle = await oracleTree({ registry: `${registry.host}/test/app:1`, user: 'u', password: 'p' });
  proxy = await startFaultProxy(registry.host);
  image = `${proxy.host}/test/app:1`;
}, 600_000);

afterAll(async () => {
  await proxy?.close();
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

beforeEach(async () => {
  proxy.fault = { kind: 'none' };
  proxy.requests.length = 0;
  await rm(join(work, 'outputs'), { recursive: true, force: true });
  await mkdir(join(work, 'outputs'));
});

describe('docker:// faults', () => {
  it('a blob cut mid-stream is resumed with a Range request, and the dump is whole', async () => {
    proxy.fault = { kind: 'cut', blob: layers[0] as string };
    const result = await extract(`docker://${image}`);
    expect([result.code, result.stderr]).toEqual([0, '']);
    const gets = proxy.requests.filter((line) => line.startsWith(`GET /v2/test/app/blobs/${layers[0]}`));
    expect(gets).toHaveLength(2);
    expect(gets[1]).toMatch(/ bytes=[1-9]\d*-$/);
    expect(oracleDifferences(oracle, await readDumpTree(result.out, { xattrs: true }))).toEqual([]);
  });

  it.each([0, 1])('a flipped byte in layer %i is a digest error, and nothing is written', async (layer) => {
    proxy.fault = { kind: 'flip', path: `/blobs/${layers[layer]}` };
    const result = await extract(`docker://${image}`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^error: layer ${layer + 1} of 2 of ${image} is corrupt: its sha256 is [0-9a-f]{64}, not ${(layers[layer] as string).slice(7)}; nothing was written$`,
      ),
    );
    expect(await outputsLeft()).toEqual([]);
  });

  it('a manifest pulled by digest that is not that digest is an error, and nothing is written', async () => {
    proxy.fault = { kind: 'flip', path: `/manifests/${manifestDigest}` };
    const result = await extract(`docker://${proxy.host}/test/app@${manifestDigest}`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^error: ${proxy.host}/test/app@${manifestDigest}: the registry ${proxy.host} sent a manifest whose digest is sha256:[0-9a-f]{64}, not the ${manifestDigest} asked for; nothing was written$`,
      ),
    );
    expect(await outputsLeft()).toEqual([]);
  });

  it('429 answers are waited out (manifest and blob), then the dump is whole', async () => {
    proxy.fault = { kind: 'too-many', path: '/manifests/1', times: 2 };
    const first = await extract(`docker://${image}`);
    expect([first.code, first.stderr]).toEqual([0, '']);
    expect(proxy.requests.filter((line) => line.endsWith('/manifests/1'))).toHaveLength(3);
    proxy.fault = { kind: 'too-many', path: `/blobs/${layers[1]}`, times: 1 };
    const second = await extract(`docker://${image}`);
    expect([second.code, second.stderr]).toEqual([0, '']);
    expect(oracleDifferences(oracle, await readDumpTree(second.out, { xattrs: true }))).toEqual([]);
  });

  it('a registry that stays down is one line after a few tries', async () => {
    proxy.fault = { kind: 'down', path: '/manifests/1' };
    const result = await extract(`docker://${image}`);
    expect([result.code, result.stderr]).toEqual([
      1,
      `error: the registry ${proxy.host} answered HTTP 503: UNAVAILABLE: down for the test for the manifest 1 of ${image} 5 times; run again later`,
    ]);
    expect(proxy.requests.filter((line) => line.endsWith('/manifests/1'))).toHaveLength(5);
    expect(await outputsLeft()).toEqual([]);
  });

  it('a foreign (non-distributable) layer is refused before any blob is fetched', async () => {
    proxy.fault = {
      kind: 'layer-type',
      mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
    };
    const result = await extract(`docker://${image}`);
    expect([result.code, result.stderr]).toEqual([
      1,
      `error: layer 1 of docker://${image} is a foreign (non-distributable) layer, not in the registry; this tool does not fetch foreign layers: copy the image with them (skopeo copy --preserve-digests) into a layout and dump oci:DIR`,
    ]);
    expect(proxy.requests.filter((line) => line.includes(layers[0] as string))).toEqual([]);
  });

  it('layers download three at a time, lowest first, and are applied in order', async () => {
    const many = join(work, 'many');
    const tars = [];
    const source = join(work, 'layer-source');
    await mkdir(source, { recursive: true });
    for (let index = 0; index < 6; index++) {
      // Each layer replaces top.txt: only the highest one's may be left, so the order shows.
      await writeFile(join(source, 'top.txt'), `layer ${index}\n`);
      await writeFile(join(source, `only-${index}.txt`), `${index}\n`);
      const { stdout } = await execa('tar', ['-C', source, '-cf', '-', 'top.txt', `only-${index}.txt`], {
        encoding: 'buffer',
      });
      tars.push(Buffer.from(stdout));
    }
    await writeImageLayout(many, 'many', [{ os: 'linux', architecture: ARCH, layers: tars }], 'gzip');
    await pushLayout(many, 'many', `${registry.host}/test/many:1`);
    proxy.fault = { kind: 'delay', ms: 400 };
    const result = await extract(`docker://${proxy.host}/test/many:1`);
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(proxy.mostBlobsAtOnce).toBe(3);
    const response = await fetch(`http://${registry.host}/v2/test/many/manifests/1`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    const digests = ((await response.json()) as { layers: { digest: string }[] }).layers.map((l) => l.digest);
    const asked = proxy.requests
      .filter((line) => /\/blobs\/sha256:/.test(line))
      .map((line) => digests.indexOf(line.split('/blobs/')[1] as string))
      .filter((position) => position >= 0);
    // Each blob once, lowest first: a blob is asked for only when the ones more than two below it were.
    // Requests sent together on separate connections reach the registry in the network's order.
    expect([...asked].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    const outOfWindow = asked.flatMap((layer, i) =>
      asked.slice(i + 1).flatMap((later) => (layer - later >= 3 ? [`${layer} before ${later}`] : [])),
    );
    expect(outOfWindow).toEqual([]);
    expect(await readFile(join(result.out, 'top.txt'), 'utf8')).toBe('layer 5\n');
    expect([...(await readDumpTree(result.out)).keys()].sort()).toEqual([
      'only-0.txt',
      'only-1.txt',
      'only-2.txt',
      'only-3.txt',
      'only-4.txt',
      'only-5.txt',
      'top.txt',
    ]);
  });

  it('a full disk is one line "no space left", and leaves neither staging nor spilled blobs', async () => {
    const mountPoint = join(work, 'small-disk');
    await mkdir(mountPoint, { recursive: true });
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=9m', 'tmpfs', mountPoint]);
    try {
      const result = await runCli(
        ['extract', `docker://${registry.host}/test/app:1`, '-o', join(mountPoint, 'dump')],
        {
          env: { ...NO_ENGINE, DOCKER_CONFIG: join(work, 'no-login') },
        },
      );
      const stderr = String(result.stderr);
      expect(result.exitCode, stderr).toBe(1);
      const errors = stderr.split('\n').filter((line) => line.startsWith('error:'));
      expect(errors, stderr).toHaveLength(1);
      expect(errors[0]).toMatch(/no space left on device/i);
      expect(stderr).not.toMatch(/^\s+at /m);
      expect(await readdir(mountPoint)).toEqual([]);
    } finally {
      await execa('umount', [mountPoint], { reject: false });
    }
  });

  it('a blob stream destroyed while its registry stalls closes at once and asks for nothing more', async () => {
    proxy.fault = { kind: 'stall', blob: layers[0] as string };
    const signal = new AbortController().signal;
    const client = await RegistryClient.open(parseRegistrySource(`docker://${image}`) as RegistrySource, {
      signal,
    });
    const stream = await client.openBlob(layers[0] as string, undefined, 'layer 1 of 2');
    stream.on('error', () => {});
    // Until the head and first bytes are read, the stall has not begun.
    await new Promise((resolve) => stream.once('data', resolve));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const closed = new Promise((resolve) => stream.once('close', resolve));
    const sent = Date.now();
    stream.destroy();
    await closed;
    // Before, the stream waited out the socket's 60 s idle timer, then asked again with a Range.
    expect(Date.now() - sent).toBeLessThan(2000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(proxy.requests.filter((line) => line.includes(layers[0] as string))).toHaveLength(1);
  });

  it('a stalled lowest blob streams with nothing spilled, and gives way to ^C: exit 130 at once, nothing left', async () => {
    proxy.fault = { kind: 'stall', blob: layers[0] as string };
    const out = join(work, 'outputs', 'stalled');
    const child = runCli(['extract', `docker://${image}`, '-o', out, '--quiet'], {
      env: { ...NO_ENGINE, DOCKER_CONFIG: join(work, 'no-login') },
    });
    for (let tries = 0; !proxy.requests.some((line) => line.includes(layers[0] as string)); tries++) {
      if (tries > 200) throw new Error('the stalled blob was never asked for');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The lowest layer streams straight into the dump: only the layer above it waits on disk.
    const staged = (await readdir(join(work, 'outputs'))).filter((name) => name.includes('archive-'));
    expect(staged).toHaveLength(1);
    expect(await readdir(join(work, 'outputs', staged[0] as string))).toEqual(['blob-1']);
    const sent = Date.now();
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(Date.now() - sent).toBeLessThan(5000);
    expect(await outputsLeft()).toEqual([]);
  });
});
