import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
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
  const push = async (archive: string, format: 'gzip' | 'zstd', remote: string) => {
    // Into a layout first, then pushed as it is: skopeo's blob-info cache would otherwise hand the registry
    // gzip blobs it already knows for the same content, whatever --dest-compress-format says.
    const layout = `${join(work, `layout-${format}-${images.size}`)}:image`;
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
  };
  // Layers this engine has never held: a pull must fetch every blob (see the deviation test below for one
  // whose layers it holds already).
  for (const format of ['gzip', 'zstd'] as const) {
    // One image per format: the second pull of the same layers would find them unpacked already.
    const remote = `${registry.host}/distroless-contents-test/fidelity-unique:${format}`;
    await push(await uniqueImage(work, format), format, remote);
    images.set(format, {
      ref: remote,
      oracle: await oracleTree({ registry: remote, ...login }),
      deviationName: 'unique',
    });
  }
  // The edge image, whose layers this engine holds unpacked from a `docker load`: the containerd store then
  // skips the pulled blobs (moby#49473), and docker save leaves them out.
  await copyImages(engine, [TEST_IMAGES.edge]);
  const edgeArchive = join(work, 'edge.tar');
  await execa('docker', ['save', '--output', edgeArchive, TEST_IMAGES.edge]);
  const edgeRemote = `${registry.host}/distroless-contents-test/fidelity-edge:gzip`;
  await push(edgeArchive, 'gzip', edgeRemote);
  images.set('edge-after-load', {
    ref: edgeRemote,
    oracle: await oracleTree({ registry: edgeRemote, ...login }),
    deviationName: 'edge',
  });
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
      `http://${registry.host}/v2/distroless-contents-test/fidelity-unique/manifests/${format}`,
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
    ]);
  });

  describe.each(METHODS)('--method %s', (method) => {
    const formats =
      method === 'fast' ? ['gzip', 'zstd', 'index'] : ['gzip', 'zstd', 'index', 'edge-after-load'];
    it.each(formats)('dumps the %s image as the oracle has it', async (format) => {
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

  it('names the engine bug when docker save lacks the pulled blobs of layers it already held (moby#49473)', async () => {
    const { ref } = images.get('edge-after-load') as { ref: string };
    const { Id } = await engine.docker.getImage(ref).inspect();
    const output = join(work, 'fast-edge-after-load');
    const failure = await extractImage(ref, {
      output,
      method: 'fast',
      pull: 'never',
      docker: engine.docker,
      labels: label.labels,
    }).catch((error: unknown) => error);
    expect((failure as Error).message).toMatch(
      new RegExp(
        `^docker save of ${Id} holds no bytes for its layer blobs/sha256/[0-9a-f]{64}: the engine's containerd image store skipped that blob when it pulled the image \\(moby#49473\\); use --method article\\.$`,
      ),
    );
  });
});

/**
 * A two-layer image no engine here has seen (random bytes in each layer), built on the main engine and
 * saved as a docker-archive: layer 1 holds `keep/a` and `gone/b`, layer 2 writes `keep/new/c`.
 */
async function uniqueImage(work: string, name: string): Promise<string> {
  const context = join(work, `unique-${name}`);
  await mkdir(join(context, 'one/keep'), { recursive: true });
  await mkdir(join(context, 'one/gone'), { recursive: true });
  await writeFile(join(context, 'one/keep/a'), randomBytes(4096));
  await writeFile(join(context, 'one/gone/b'), randomBytes(4096));
  await writeFile(join(context, 'c'), randomBytes(4096));
  await writeFile(join(context, 'Dockerfile'), 'FROM scratch\nCOPY one/ /\nCOPY c /keep/new/c\n');
  const tag = `distroless-contents-test/fidelity-unique:${randomBytes(4).toString('hex')}`;
  await execa('docker', ['build', '--quiet', '--network', 'none', '--label', label.arg, '-t', tag, context], {
    env: { DOCKER_BUILDKIT: '0' },
  });
  const archive = join(work, `unique-${name}.tar`);
  try {
    await execa('docker', ['save', '--output', archive, tag]);
  } finally {
    await execa('docker', ['image', 'rm', tag], { reject: false });
  }
  return archive;
}
