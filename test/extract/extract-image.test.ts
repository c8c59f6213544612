import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { extractImage } from '../../src/index.js';
import type { Manifest } from '../../src/manifest.js';
import { compareTrees, readDumpTree, readImageTree } from '../support/image-tree.js';
import { docker, leftovers, stagingLeftovers, testLabel } from '../support/leftovers.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-extract-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe.each([
  ['static:nonroot', TEST_IMAGES.staticNonroot],
  ['base-nossl:nonroot', TEST_IMAGES.baseNosslNonroot],
  ['edge', TEST_IMAGES.edge],
])('extractImage(%s) with the article method', (name, image) => {
  let output: string;
  let manifest: Manifest;
  let label: ReturnType<typeof testLabel>;
  let warnings: readonly string[];

  beforeAll(async () => {
    output = join(work, name.replace(/\W/g, '-'));
    label = testLabel();
    const result = await extractImage(image, {
      output,
      manifest: `${output}.json`,
      base: TEST_IMAGES.shell,
      pull: 'never',
      labels: label.labels,
    });
    manifest = JSON.parse(await readFile(`${output}.json`, 'utf8')) as Manifest;
    expect(result.manifest).toEqual(manifest);
    expect(result.counts.entries).toBe(manifest.entries.length);
    warnings = result.warnings;
  });

  it("writes exactly the image's own layers to disk: types, modes, owners, sizes, hashes, link targets, file mtimes, hardlink groups", async () => {
    const expected = await readImageTree(docker, image);
    const onDisk = await readDumpTree(output);
    expect(compareTrees(expected, onDisk, { owners: true })).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('writes a manifest that agrees entry by entry with the layers, sorted by path', async () => {
    const expected = await readImageTree(docker, image);
    const paths = manifest.entries.map((entry) => entry.path);
    expect(paths).toEqual([...paths].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(new Set(paths)).toEqual(new Set(expected.keys()));
    for (const entry of manifest.entries) {
      const want = expected.get(entry.path);
      expect.soft({ path: entry.path, mode: entry.mode, uid: entry.uid, gid: entry.gid }).toEqual({
        path: entry.path,
        mode: want?.mode,
        uid: want?.uid,
        gid: want?.gid,
      });
      if (entry.type === 'file') expect.soft(entry.sha256, entry.path).toBe(want?.sha256);
      if (entry.type === 'symlink') expect.soft(entry.target, entry.path).toBe(want?.target);
    }
    const inspect = await docker.getImage(image).inspect();
    expect(manifest.image).toMatchObject({
      reference: image,
      id: inspect.Id,
      platform: `${inspect.Os}/${inspect.Architecture}`,
    });
    expect(manifest.image.user).toBe(inspect.Config.User);
  });

  it('adds nothing of the container (no /.dockerenv, /etc/hosts, /etc/hostname, /etc/resolv.conf)', async () => {
    const expected = await readImageTree(docker, image);
    const onDisk = await readDumpTree(output);
    for (const artifact of [
      '.dockerenv',
      'etc/hosts',
      'etc/hostname',
      'etc/resolv.conf',
      'proc',
      'sys',
      'dev/console',
    ]) {
      expect(onDisk.has(artifact), artifact).toBe(expected.has(artifact));
    }
  });

  // The test's label reaches every intermediate image too (the Dockerfile's first step sets the run's labels);
  // the engine's whole inventory is compared in test/faults/nothing-left.test.ts, on an engine of its own.
  it('leaves no container or image carrying its label, and no staging folder', async () => {
    expect(await leftovers(label.value)).toEqual([]);
    expect(await stagingLeftovers(work)).toEqual([]);
  });
});

describe('the distroless facts hold in the dump of the static look-alike', () => {
  it('has the nonroot user and its 700 home owned by 65532, a sticky /tmp and no dpkg status file', async () => {
    const output = join(work, 'facts');
    const { manifest } = await extractImage(TEST_IMAGES.staticNonroot, {
      output,
      base: TEST_IMAGES.shell,
      pull: 'never',
    });
    const byPath = new Map(manifest.entries.map((entry) => [entry.path, entry]));
    expect(byPath.get('home/nonroot')).toMatchObject({ type: 'dir', mode: 0o700, uid: 65532, gid: 65532 });
    expect(byPath.get('tmp')).toMatchObject({ type: 'dir', mode: 0o1777 });
    expect(byPath.has('var/lib/dpkg/status')).toBe(false);
    expect(await readFile(join(output, 'etc/passwd'), 'utf8')).toContain(
      'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin',
    );
    expect(manifest.image).toMatchObject({
      user: '65532',
      workdir: '/home/nonroot',
      cmd: null,
      entrypoint: null,
    });
  });
});
