import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { extractImage } from '../../src/index.js';
import type { Manifest } from '../../src/manifest.js';
import { runCli } from '../support/cli.js';
import { compareTrees, readDumpTree, type TreeEntry } from '../support/image-tree.js';
import { docker } from '../support/leftovers.js';

// Layouts and archives written by real tools (skopeo, docker save of Engine 20.10) from the test images,
// dumped with the engine out of reach; the oracle is umoci unpack of the same image (a docker-archive is
// first copied to an OCI layout by skopeo), compared entry by entry with owners, modes, contents and times.

/** No engine answers here: a dump that needed one would fail. */
const NO_ENGINE = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
const IMAGES = {
  static: TEST_IMAGES.staticNonroot,
  latest: TEST_IMAGES.staticLatest,
  nossl: TEST_IMAGES.baseNosslNonroot,
  edge: TEST_IMAGES.edge,
} as const;
type Name = keyof typeof IMAGES;
const NAMES = Object.keys(IMAGES) as Name[];

// biome-ignore lint/suspicious/noExplicitAny: the layout's JSON documents, read loosely by the test
type Json = any;

let work: string;
const layout = () => join(work, 'layout');

async function run(command: string, args: string[]): Promise<void> {
  await execa(command, args, { cwd: work });
}

const oracles = new Map<string, ReturnType<typeof readDumpTree>>();

/** umoci's rootfs of LAYOUT:REF: the oracle, unpacked once per image. */
function oracle(dir: string, ref: string) {
  const key = `${dir}:${ref}`;
  if (!oracles.has(key)) {
    const bundle = join(work, `bundle-${createHash('sha256').update(key).digest('hex').slice(0, 8)}`);
    oracles.set(
      key,
      run('umoci', ['unpack', '--image', key, bundle]).then(() => readDumpTree(join(bundle, 'rootfs'))),
    );
  }
  return oracles.get(key) as ReturnType<typeof readDumpTree>;
}

async function dump(source: string, extra: string[] = []) {
  const out = join(
    work,
    'out',
    createHash('sha256')
      .update(`${source} ${extra.join(' ')}`)
      .digest('hex')
      .slice(0, 12),
  );
  const result = await runCli(
    ['extract', source, '-o', out, '--manifest', `${out}.json`, '--quiet', ...extra],
    {
      env: NO_ENGINE,
    },
  );
  return { result, out };
}

async function expectSameAsOracle(source: string, oracleLayout: string, ref: string, extra: string[] = []) {
  const { result, out } = await dump(source, extra);
  expect(result.stderr).toBe('');
  expect(result.exitCode).toBe(0);
  const differences = compareTrees(await oracle(oracleLayout, ref), await readDumpTree(out), {
    owners: true,
  });
  expect(differences).toEqual([]);
  return JSON.parse(await readFile(`${out}.json`, 'utf8')) as Manifest;
}

async function readJson(path: string): Promise<Json> {
  return JSON.parse(await readFile(path, 'utf8'));
}

function blobPath(dir: string, digest: string): string {
  return join(dir, 'blobs', ...digest.split(':'));
}

async function writeBlob(dir: string, value: unknown): Promise<{ digest: string; size: number }> {
  const bytes = Buffer.from(JSON.stringify(value));
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  await writeFile(blobPath(dir, digest), bytes);
  return { digest, size: bytes.length };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-sources-'));
  await mkdir(join(work, 'out'));
  for (const name of NAMES) {
    await run('skopeo', ['copy', '-q', `docker-daemon:${IMAGES[name]}`, `oci:layout:${name}`]);
    await run('skopeo', [
      'copy',
      '-q',
      `docker-daemon:${IMAGES[name]}`,
      `oci-archive:${name}.oci.tar:${name}`,
    ]);
    const save = (await docker.getImage(IMAGES[name]).get()) as NodeJS.ReadableStream;
    await writeFile(join(work, `${name}.docker.tar`), save);
    // The docker-archive's oracle: the same archive as an OCI layout, by skopeo.
    await run('skopeo', ['copy', '-q', `docker-archive:${name}.docker.tar`, `oci:from-archive:${name}`]);
  }
  // podman save of the same image, from a store of this test's own (Podman's docker-archive has its own shape).
  const podman = [
    '--root',
    join(work, 'podman-root'),
    '--runroot',
    join(work, 'podman-run'),
    '--storage-driver',
    'vfs',
  ];
  await run('podman', [...podman, 'load', '-q', '-i', 'edge.docker.tar']);
  await run('podman', [...podman, 'save', '-q', '-o', 'edge.podman.tar', IMAGES.edge]);
  await run('skopeo', ['copy', '-q', 'docker-archive:edge.podman.tar', 'oci:from-podman:edge']);
  await run('skopeo', [
    'copy',
    '-q',
    '--dest-compress-format',
    'zstd',
    `docker-daemon:${IMAGES.edge}`,
    'oci:zstd:edge',
  ]);
}, 600_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('file sources without an engine equal umoci unpack of the same image', () => {
  it.each(NAMES)('oci: layout folder, %s', async (name) => {
    const manifest = await expectSameAsOracle(`oci:${layout()}:${name}`, layout(), name);
    const index = await readJson(join(layout(), 'index.json'));
    const descriptor = index.manifests.find(
      (m: Json) => m.annotations['org.opencontainers.image.ref.name'] === name,
    );
    const ociManifest = await readJson(blobPath(layout(), descriptor.digest));
    const config = await readJson(blobPath(layout(), ociManifest.config.digest));
    expect(manifest.method).toBe('fast');
    expect(manifest.image).toMatchObject({
      reference: `oci:${layout()}:${name}`,
      id: ociManifest.config.digest,
      digest: descriptor.digest,
      platform: `${config.os}/${config.architecture}`,
      user: config.config.User ?? '',
      env: config.config.Env,
    });
  });

  it("reports progress as the layers' blobs are read: the last count is their bytes and members", async () => {
    const dir = layout();
    const index = await readJson(join(dir, 'index.json'));
    const descriptor = index.manifests.find(
      (m: Json) => m.annotations['org.opencontainers.image.ref.name'] === 'edge',
    );
    const blobs: string[] = (await readJson(blobPath(dir, descriptor.digest))).layers.map((layer: Json) =>
      blobPath(dir, layer.digest),
    );
    const events: { bytes: number; entries: number }[] = [];
    await extractImage(`oci:${dir}:edge`, {
      output: join(work, 'progress-oci'),
      onProgress: (event) => {
        if (event.kind === 'transfer' && event.step === 'copy') events.push(event);
      },
    });
    // Independently: the blobs' sizes on disk, and their members as GNU tar counts them.
    const { stdout: size } = await execa('bash', ['-c', 'cat "$@" | wc -c', '-', ...blobs]);
    const { stdout: members } = await execa('bash', [
      '-c',
      'for blob in "$@"; do zcat "$blob" | tar -t; done | wc -l',
      '-',
      ...blobs,
    ]);
    expect(events.at(-1)).toEqual({
      kind: 'transfer',
      step: 'copy',
      bytes: Number(size),
      entries: Number(members),
    });
    for (const [i, event] of events.entries()) {
      expect(event.bytes).toBeGreaterThanOrEqual(events[i - 1]?.bytes ?? 0);
    }
  });

  it.each(NAMES)('oci-archive:, %s', async (name) => {
    await expectSameAsOracle(`oci-archive:${join(work, `${name}.oci.tar`)}`, layout(), name);
  });

  it.each(NAMES)('docker-archive: (docker save of Engine 20.10), %s', async (name) => {
    const manifest = await expectSameAsOracle(
      `docker-archive:${join(work, `${name}.docker.tar`)}`,
      join(work, 'from-archive'),
      name,
    );
    const inspect = await docker.getImage(IMAGES[name]).inspect();
    expect(manifest.image.id).toBe(inspect.Id);
    expect(manifest.image.user).toBe(inspect.Config.User);
  });

  it("a layout of zstd layers (skopeo --dest-compress-format zstd) gives the gzip layout's tree", async () => {
    const index = await readJson(join(work, 'zstd', 'index.json'));
    const zstdManifest = await readJson(blobPath(join(work, 'zstd'), index.manifests[0].digest));
    expect(zstdManifest.layers.map((l: Json) => l.mediaType)).toEqual(
      Array(3).fill('application/vnd.oci.image.layer.v1.tar+zstd'),
    );
    // umoci 0.4.7 reads no zstd: its oracle is the gzip layout of the same image, whose diff IDs are the same.
    const zstdConfig = await readJson(blobPath(join(work, 'zstd'), zstdManifest.config.digest));
    const gzipIndex = await readJson(join(layout(), 'index.json'));
    const gzipDescriptor = gzipIndex.manifests.find(
      (m: Json) => m.annotations['org.opencontainers.image.ref.name'] === 'edge',
    );
    const gzipConfig = await readJson(
      blobPath(layout(), (await readJson(blobPath(layout(), gzipDescriptor.digest))).config.digest),
    );
    expect(zstdConfig.rootfs.diff_ids).toEqual(gzipConfig.rootfs.diff_ids);
    await expectSameAsOracle(`oci:${join(work, 'zstd')}:edge`, layout(), 'edge');
  });

  it('docker-archive: of podman save, chosen by the name Podman gave it', async () => {
    const archive = join(work, 'edge.podman.tar');
    await expectSameAsOracle(
      `docker-archive:${archive}:localhost/${IMAGES.edge}`,
      join(work, 'from-podman'),
      'edge',
    );
  });

  it('a hand-written two-platform index: --platform picks, the host is the default, a missing one lists them', async () => {
    // linux/amd64 is static:nonroot as skopeo wrote it; "linux/arm64" is edge's layers under a config that says arm64.
    const dir = layout();
    const index = await readJson(join(dir, 'index.json'));
    const byRef = (ref: string) =>
      index.manifests.find((m: Json) => m.annotations['org.opencontainers.image.ref.name'] === ref);
    const edgeManifest = await readJson(blobPath(dir, byRef('edge').digest));
    const armConfig = {
      ...(await readJson(blobPath(dir, edgeManifest.config.digest))),
      architecture: 'arm64',
    };
    const config = await writeBlob(dir, armConfig);
    const armManifest = await writeBlob(dir, {
      ...edgeManifest,
      config: { ...edgeManifest.config, ...config },
    });
    const manifestType = 'application/vnd.oci.image.manifest.v1+json';
    const imageIndex = await writeBlob(dir, {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: manifestType,
          digest: byRef('static').digest,
          size: byRef('static').size,
          platform: { os: 'linux', architecture: 'amd64' },
        },
        { mediaType: manifestType, ...armManifest, platform: { os: 'linux', architecture: 'arm64' } },
      ],
    });
    index.manifests.push(
      {
        mediaType: 'application/vnd.oci.image.index.v1+json',
        ...imageIndex,
        annotations: { 'org.opencontainers.image.ref.name': 'multi' },
      },
      {
        mediaType: manifestType,
        ...armManifest,
        annotations: { 'org.opencontainers.image.ref.name': 'arm-only' },
      },
    );
    await writeFile(join(dir, 'index.json'), JSON.stringify(index));

    const arm = await expectSameAsOracle(`oci:${dir}:multi`, dir, 'arm-only', ['--platform', 'linux/arm64']);
    expect(arm.image).toMatchObject({
      platform: 'linux/arm64',
      digest: armManifest.digest,
      id: config.digest,
    });
    expect(process.arch).toBe('x64');
    const host = await expectSameAsOracle(`oci:${dir}:multi`, dir, 'static');
    expect(host.image.platform).toBe('linux/amd64');

    const { result, out } = await dump(`oci:${dir}:multi`, ['--platform', 'linux/s390x']);
    expect(result.exitCode).toBe(1);
    expect(String(result.stderr).trim()).toBe(
      `error: the image index in ${dir} has no image for linux/s390x; it has linux/amd64, linux/arm64; choose one with --platform`,
    );
    await expect(readFile(`${out}.json`)).rejects.toThrow(/ENOENT/);
  });
});

describe('report, diff and batches take file sources', () => {
  it('report of an oci-archive and diff of a docker-archive against a layout, with no engine', async () => {
    const report = await runCli(['report', `oci-archive:${join(work, 'latest.oci.tar')}`, '--json'], {
      env: NO_ENGINE,
    });
    expect(report.exitCode).toBe(0);
    expect(JSON.parse(String(report.stdout)).summary.entries).toBeGreaterThan(1000);
    const same = await runCli(
      ['diff', `docker-archive:${join(work, 'static.docker.tar')}`, `oci:${layout()}:static`],
      { env: NO_ENGINE },
    );
    expect(same.exitCode).toBe(0);
    const different = await runCli(
      ['diff', `docker-archive:${join(work, 'static.docker.tar')}`, `oci:${layout()}:nossl`],
      { env: NO_ENGINE },
    );
    expect(different.exitCode).toBe(1);
    expect(different.stdout).toMatch(/lib/);
  });

  it('--from-file lines may be any source; one failing source fails the batch with exit 1', async () => {
    const list = join(work, 'list.txt');
    await writeFile(
      list,
      [
        `oci:${layout()}:edge`,
        `docker-archive:${join(work, 'edge.docker.tar')}`,
        `oci:${layout()}:missing`,
        '',
      ].join('\n'),
    );
    const outputDir = join(work, 'batch');
    const result = await runCli(
      ['extract', '--from-file', list, '--output-dir', outputDir, '--json', '--quiet'],
      { env: NO_ENGINE },
    );
    expect(result.exitCode).toBe(1);
    const images = JSON.parse(String(result.stdout)).images as {
      status: string;
      output: string;
      error?: string;
    }[];
    expect(images.map((image) => image.status)).toEqual(['done', 'done', 'failed']);
    expect(images[2]?.error).toMatch(/has no image "missing"; it has "static", "latest", "nossl", "edge"/);
    const [a, b] = await Promise.all(images.slice(0, 2).map((image) => readDumpTree(image.output)));
    expect(compareTrees(a as Map<string, TreeEntry>, b as Map<string, TreeEntry>, { owners: true })).toEqual(
      [],
    );
  });
});

describe('a dump without an engine never loads the Docker client', () => {
  // Observed, not forced: a preload lists the dockerode files the CLI loaded, as it exits.
  async function dockerodeFilesLoaded(
    args: string[],
  ): Promise<{ exitCode?: number; stderr: string; files: string[] }> {
    const probe = join(work, 'dockerode-probe.cjs');
    const record = join(work, `dockerode-loaded-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(
      probe,
      `process.on('exit', () => require('node:fs').writeFileSync(process.env.DC_PROBE_OUT, JSON.stringify(Object.keys(require.cache).filter((file) => file.includes('/node_modules/dockerode/')))));\n`,
    );
    const result = await runCli(args, {
      env: { ...NO_ENGINE, NODE_OPTIONS: `--require ${probe}`, DC_PROBE_OUT: record },
    });
    return {
      exitCode: result.exitCode,
      stderr: String(result.stderr),
      files: JSON.parse(await readFile(record, 'utf8')),
    };
  }

  it('an oci: dump loads none of dockerode; an engine reference does', async () => {
    const fromLayout = await dockerodeFilesLoaded([
      'extract',
      `oci:${layout()}:edge`,
      '-o',
      join(work, 'no-client'),
      '--quiet',
    ]);
    expect(fromLayout).toEqual({ exitCode: 0, stderr: '', files: [] });
    // The probe sees the client where it is used: an engine reference connects (and finds no engine).
    const fromEngine = await dockerodeFilesLoaded([
      'extract',
      IMAGES.edge,
      '-o',
      join(work, 'client'),
      '--quiet',
    ]);
    expect(fromEngine.exitCode).toBe(1);
    expect(fromEngine.stderr).toMatch(/No Docker engine answers at unix:\/\/\/nonexistent\/docker\.sock/);
    expect(fromEngine.files.length).toBeGreaterThan(0);
  });
});
