import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { extractImage } from '../../src/index.js';
import type { ExtractMethod } from '../../src/options.js';
import { copyImages, openEngine, type TestEngine } from '../support/engines.js';
import { readDumpTree } from '../support/image-tree.js';
import { testLabel } from '../support/leftovers.js';
import { manifestTree, type OracleTree, oracleDifferences, oracleTree } from '../support/oracle.js';
import { pushImageIndex } from '../support/registry-push.js';
import { type RegistryServer, startRegistry } from '../support/registry-server.js';
import { expectedDeviation } from './engine-deviations.js';

// Layers as registries hand them out, pulled by Docker 26 with the containerd store (which keeps them as
// they came): gzip and zstd layers of the edge image, and one platform of a two-platform index (the other
// platform's blobs never arrive). The oracle reads each image from the registry itself.

const ARCH = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch;
const OTHER_ARCH = ARCH === 'arm64' ? 'amd64' : 'arm64';
const METHODS: readonly ExtractMethod[] = ['article', 'fast'];
const LAYER_TYPES = {
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

const label = testLabel();
let registry: RegistryServer;
let engine: TestEngine;
let work: string;
/** Reference on the modern engine -> the oracle of the registry's image. */
const images = new Map<string, { ref: string; oracle: OracleTree; deviationName: string }>();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-registry-formats-'));
  registry = await startRegistry();
  engine = await openEngine('docker-26-containerd');
  await copyImages(engine, [TEST_IMAGES.shell]);
  const login = { user: registry.user, password: registry.password };
  const creds = `${registry.user}:${registry.password}`;
  const archive = join(work, 'edge.tar');
  await execa('docker', ['save', '--output', archive, TEST_IMAGES.edge]);
  for (const format of ['gzip', 'zstd'] as const) {
    // Into a layout first, then pushed as it is: skopeo's blob-info cache would otherwise hand the registry
    // gzip blobs it already knows for the same content, whatever --dest-compress-format says.
    const layout = `${join(work, `layout-${format}`)}:edge`;
    await execa('skopeo', [
      'copy',
      '--quiet',
      '--format',
      'oci',
      '--dest-compress',
      '--dest-compress-format',
      format,
      `docker-archive:${archive}`,
      `oci:${layout}`,
    ]);
    const remote = `${registry.host}/distroless-contents-test/fidelity-edge:${format}`;
    await execa('skopeo', [
      'copy',
      '--quiet',
      '--preserve-digests',
      '--dest-tls-verify=false',
      '--dest-creds',
      creds,
      `oci:${layout}`,
      `docker://${remote}`,
    ]);
    images.set(format, {
      ref: remote,
      oracle: await oracleTree({ registry: remote, ...login }),
      deviationName: 'edge',
    });
  }
  const index = `${registry.host}/distroless-contents-test/fidelity-index:two-platforms`;
  await pushImageIndex(
    { host: registry.host, ...login },
    'distroless-contents-test/fidelity-index',
    'two-platforms',
    [
      {
        os: 'linux',
        architecture: ARCH,
        files: { 'platform.txt': `${ARCH}\n`, [`only-on-${ARCH}`]: 'this one\n' },
      },
      { os: 'linux', architecture: OTHER_ARCH, files: { 'platform.txt': `${OTHER_ARCH}\n` } },
    ],
  );
  images.set('index', {
    ref: index,
    oracle: await oracleTree({ registry: index, ...login, arch: ARCH }),
    deviationName: 'index',
  });
  // A real `docker login` and pull, as a user would.
  const config = join(work, 'docker-config');
  const env = { ...engine.env, DOCKER_CONFIG: config };
  await execa('docker', ['login', '--username', registry.user, '--password-stdin', registry.host], {
    env,
    input: registry.password,
  });
  for (const [format, { ref }] of images) {
    const platform = format === 'index' ? ['--platform', `linux/${ARCH}`] : [];
    await execa('docker', ['pull', '--quiet', ...platform, ref], { env });
  }
});

afterAll(async () => {
  for (const { ref } of images.values())
    await engine?.docker
      .getImage(ref)
      .remove({ force: true })
      .catch(() => {});
  await engine?.close();
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('layers from a registry on docker-26-containerd', () => {
  it.each(['gzip', 'zstd'] as const)('keeps the registry’s %s layers as they came', async (format) => {
    const response = await fetch(
      `http://${registry.host}/v2/distroless-contents-test/fidelity-edge/manifests/${format}`,
      {
        headers: {
          accept: 'application/vnd.oci.image.manifest.v1+json',
          authorization: `Basic ${Buffer.from(`${registry.user}:${registry.password}`).toString('base64')}`,
        },
      },
    );
    const manifest = (await response.json()) as { layers: { mediaType: string }[] };
    expect(manifest.layers.map((layer) => layer.mediaType)).toEqual([
      LAYER_TYPES[format],
      LAYER_TYPES[format],
      LAYER_TYPES[format],
    ]);
  });

  describe.each(METHODS)('--method %s', (method) => {
    it.each(['gzip', 'zstd', 'index'])('dumps the %s image as the oracle has it', async (format) => {
      const { ref, oracle, deviationName } = images.get(format) as {
        ref: string;
        oracle: OracleTree;
        deviationName: string;
      };
      const output = join(work, `${method}-${format}`);
      const { manifest } = await extractImage(ref, {
        output,
        method,
        base: TEST_IMAGES.shell,
        pull: 'never',
        docker: engine.docker,
        labels: label.labels,
      });
      const expected = await expectedDeviation({ engine, method, image: deviationName, tag: ref, oracle });
      expect(oracleDifferences(oracle, await readDumpTree(output, { xattrs: true }))).toEqual(expected.dump);
      expect(oracleDifferences(oracle, manifestTree(manifest.entries))).toEqual(expected.manifest);
    });
  });
});
