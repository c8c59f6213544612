import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { CACHE_LABEL, CACHE_REPOSITORY } from '../../src/extract/cache.js';
import { type ExtractResult, extractImage } from '../../src/index.js';
import { compareTrees, readDumpTree } from '../support/image-tree.js';
import { docker, testLabel } from '../support/leftovers.js';

const label = testLabel();
let work: string;
/** A base of our own, so the cache key is this test's alone: no other run can have filled it. */
let base: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-cache-'));
  base = `distroless-contents-test/cache-base:${label.value}`;
  await execa('docker', ['build', '--quiet', '--tag', base, '--label', label.arg, '-'], {
    input: `FROM ${TEST_IMAGES.shell}\nLABEL ${label.arg}\n`,
  });
});

afterAll(async () => {
  for (const id of await cachedImages()) await docker.getImage(id).remove({ force: true });
  // The base last: the images built on it are its children.
  await docker.getImage(base).remove({ force: true });
  await rm(work, { recursive: true, force: true });
});

async function run(name: string, options: { cache?: boolean; keepImage?: boolean }) {
  const lines: string[] = [];
  let built = false;
  const result = await extractImage(TEST_IMAGES.edge, {
    output: join(work, name),
    base,
    pull: 'never',
    labels: label.labels,
    log: (line) => lines.push(line),
    onProgress: (event) => {
      if (event.kind === 'step' && event.step === 'build') built = true;
    },
    ...options,
  });
  return { result, built, reused: lines.some((l) => l.startsWith('reusing')) };
}

async function cachedImages(): Promise<string[]> {
  const images = await docker.listImages({ filters: JSON.stringify({ label: [label.arg, CACHE_LABEL] }) });
  return images
    .filter((image) => image.RepoTags?.some((tag) => tag.startsWith(`${CACHE_REPOSITORY}:`)))
    .map((i) => i.Id);
}

describe('the article method with --cache', () => {
  let first: ExtractResult;

  it('builds on a cold cache and keeps the built image, tagged', async () => {
    const cold = await run('cold', { cache: true });
    first = cold.result;
    expect(cold).toMatchObject({ built: true, reused: false });
    expect(await cachedImages()).toHaveLength(1);
  });

  it('skips the build when the image for the same source, base and template exists, with the same dump', async () => {
    const warm = await run('warm', { cache: true });
    expect(warm).toMatchObject({ built: false, reused: true });
    expect(warm.result.manifest.entries).toEqual(first.manifest.entries);
    const [a, b] = await Promise.all([readDumpTree(first.output), readDumpTree(warm.result.output)]);
    expect(compareTrees(a, b, { owners: true })).toEqual([]);
    expect(await cachedImages()).toHaveLength(1);
  });

  it('is not used without --cache: a plain run builds and removes only its own image', async () => {
    const plain = await run('plain', {});
    expect(plain).toMatchObject({ built: true, reused: false });
    expect(await cachedImages()).toHaveLength(1);
  });

  it('builds again once the cached image is removed (how the cache is cleared)', async () => {
    for (const id of await cachedImages()) await docker.getImage(id).remove({ force: true });
    const cleared = await run('cleared', { cache: true });
    expect(cleared).toMatchObject({ built: true, reused: false });
  });

  it('reuses an image an earlier --keep-image run built', async () => {
    for (const id of await cachedImages()) await docker.getImage(id).remove({ force: true });
    expect(await run('keep', { keepImage: true })).toMatchObject({ built: true });
    expect(await cachedImages()).toHaveLength(1);
    expect(await run('after-keep', { cache: true })).toMatchObject({ built: false, reused: true });
  });
});
