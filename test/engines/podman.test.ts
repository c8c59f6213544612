import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Dockerode from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { engineKind } from '../../src/docker/engine-kind.js';
import { extractImage } from '../../src/index.js';
import type { Manifest, ManifestEntry } from '../../src/manifest.js';
import { runCli } from '../support/cli.js';
import { compareTrees, readDumpTree, readImageTree } from '../support/image-tree.js';
import { docker, testLabel } from '../support/leftovers.js';
import { type PodmanService, startPodmanService } from '../support/podman-service.js';

// The same extraction through `podman system service` (Debian's podman, buildah behind its build API),
// compared entry by entry with the Docker engine's.

const IMAGES = [
  ['static:nonroot', TEST_IMAGES.staticNonroot],
  ['base-nossl:nonroot', TEST_IMAGES.baseNosslNonroot],
  ['edge', TEST_IMAGES.edge],
] as const;

let service: PodmanService;
let podman: Dockerode;
let work: string;
const label = testLabel();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-podman-test-'));
  service = await startPodmanService();
  podman = new Dockerode({ socketPath: service.host.slice('unix://'.length) });
  const saved = execa('docker', ['save', TEST_IMAGES.shell, ...IMAGES.map(([, image]) => image)], {
    encoding: 'buffer',
  });
  await saved.pipe('podman', [...service.cliArgs, 'load', '--quiet'], { env: service.cliEnv });
});

afterAll(async () => {
  await service?.stop();
  await rm(work, { recursive: true, force: true });
});

/** Directories the engine makes when it applies a layer that implies them get the time of that moment. */
/** Folder times aside, and `layer`: the fast method records which layer wrote a name, the article method cannot. */
function comparable(entries: readonly ManifestEntry[]): ManifestEntry[] {
  return entries.map(({ layer: _layer, ...entry }) =>
    entry.type === 'dir' ? { ...entry, mtime: 0 } : entry,
  );
}

describe('podman system service', () => {
  it('is Podman answering the Docker API', async () => {
    expect(await engineKind(podman)).toBe('podman');
    expect(await engineKind(docker)).toBe('docker');
  });

  it("chowns every member of its archive endpoint to the container's user, so the tool reads its export instead", async () => {
    const container = await podman.createContainer({
      Image: TEST_IMAGES.staticNonroot,
      Cmd: ['/nonexistent'],
      Labels: label.labels,
    });
    try {
      const archive = (await container.getArchive({ path: '/home' })) as unknown as Readable;
      // The image runs as 65532; its /home is root's, /home/nonroot 65532's (the oracle below).
      const image = await readImageTree(docker, TEST_IMAGES.staticNonroot);
      expect(image.get('home')).toMatchObject({ uid: 0, gid: 0 });
      expect(image.get('home/nonroot')).toMatchObject({ uid: 65532, gid: 65532 });
      const members = (await listTar(archive)).split('\n');
      expect(members.map((line) => line.split(/\s+/)[1])).toEqual(['65532/65532', '65532/65532']);
      const exported = await listTar((await container.export()) as Readable);
      expect(exported).toMatch(/^drwxr-xr-x 0\/0 .* home\/$/m);
      expect(exported).toMatch(/^drwx------ 65532\/65532 .* home\/nonroot\/$/m);
    } finally {
      await container.remove({ force: true });
    }
  });

  describe.each(IMAGES)('extracting %s through DOCKER_HOST=unix://…/podman.sock', (name, image) => {
    let output: string;
    let manifest: Manifest;
    let dockerManifest: Manifest;
    let dockerOutput: string;

    beforeAll(async () => {
      output = join(work, `podman-${name.replace(/\W/g, '-')}`);
      const result = await runCli(
        [
          'extract',
          image,
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
          '--quiet',
        ],
        { env: { DOCKER_HOST: service.host, DOCKER_CONTEXT: '' } },
      );
      expect(result.exitCode, String(result.stderr)).toBe(0);
      manifest = JSON.parse(await readFile(`${output}.json`, 'utf8')) as Manifest;
      dockerOutput = join(work, `docker-${name.replace(/\W/g, '-')}`);
      dockerManifest = (
        await extractImage(image, {
          output: dockerOutput,
          base: TEST_IMAGES.shell,
          pull: 'never',
          labels: label.labels,
        })
      ).manifest;
    });

    it("dumps exactly the image's own layers, as the Docker engine's extraction does", async () => {
      const onDisk = await readDumpTree(output);
      expect(compareTrees(await readImageTree(docker, image), onDisk, { owners: true })).toEqual([]);
      expect(compareTrees(await readDumpTree(dockerOutput), onDisk, { owners: true })).toEqual([]);
    });

    it("writes the Docker engine's manifest entries, and the same image facts", () => {
      expect(comparable(manifest.entries)).toEqual(comparable(dockerManifest.entries));
      const { digest: _podmanDigest, ...podmanImage } = manifest.image;
      const { digest: _dockerDigest, ...dockerImage } = dockerManifest.image;
      expect(podmanImage).toEqual(dockerImage);
    });

    it("gives the same dump with --method fast, from Podman's own docker save (layers linked from <id>/layer.tar)", async () => {
      const fastOutput = join(work, `podman-fast-${name.replace(/\W/g, '-')}`);
      const result = await runCli(
        ['extract', image, '--method', 'fast', '--pull', 'never', '--quiet'].concat([
          '-o',
          fastOutput,
          '--manifest',
          `${fastOutput}.json`,
          '--label',
          label.arg,
        ]),
        { env: { DOCKER_HOST: service.host, DOCKER_CONTEXT: '' } },
      );
      expect(result.exitCode, String(result.stderr)).toBe(0);
      const onDisk = await readDumpTree(fastOutput);
      const spec = await readImageTree(docker, image, 'spec');
      expect(compareTrees(spec, onDisk, { owners: true })).toEqual([]);
      const fastManifest = JSON.parse(await readFile(`${fastOutput}.json`, 'utf8')) as Manifest;
      // Folders a layer needs without listing them: the fast method keeps the spec's metadata; Podman's own
      // COPY --from (its overlay store, like Engine 20.10's) makes them root:root 0755.
      const implied = new Set(
        [...(await readImageTree(docker, image, 'overlay2')).values()]
          .filter((e) => e.type === 'dir' && e.mtime === 0)
          .map((e) => e.path),
      );
      const outside = (entries: readonly ManifestEntry[]) => entries.filter((e) => !implied.has(e.path));
      expect(comparable(outside(fastManifest.entries))).toEqual(comparable(outside(manifest.entries)));
      for (const path of implied) {
        const pick = (e: ManifestEntry | undefined) =>
          e && { type: e.type, mode: e.mode, uid: e.uid, gid: e.gid };
        expect(pick(fastManifest.entries.find((e) => e.path === path)), path).toEqual(pick(spec.get(path)));
        expect(pick(manifest.entries.find((e) => e.path === path)), path).toEqual({
          type: 'dir',
          mode: 0o755,
          uid: 0,
          gid: 0,
        });
      }
    });

    it('leaves no container or image behind in podman', async () => {
      const filters = JSON.stringify({ label: [label.arg] });
      expect(await podman.listContainers({ all: true, filters })).toEqual([]);
      expect(await podman.listImages({ all: true, filters })).toEqual([]);
    });
  });
});

/** `tar -tv --numeric-owner` of a stream: GNU tar's own reading of the members and their owners. */
async function listTar(stream: Readable): Promise<string> {
  const tar = execa('tar', ['-tv', '--numeric-owner']);
  await Promise.all([pipeline(stream, tar.stdin), tar]);
  return (await tar).stdout;
}
