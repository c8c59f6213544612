import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { type BatchImageResult, extractImages } from '../../src/batch/extract-batch.js';
import { folderName } from '../../src/batch/folder-name.js';
import type { Manifest } from '../../src/manifest.js';
import { runCli } from '../support/cli.js';
import { compareTrees, readDumpTree } from '../support/image-tree.js';
import { leftovers, testLabel } from '../support/leftovers.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-batch-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const base = ['--base', TEST_IMAGES.shell, '--pull', 'never'];

describe('extractImages', () => {
  it('extracts each image once into its own folder with its manifest, and a failure does not stop the others', async () => {
    const outputDir = join(work, 'library');
    const label = testLabel();
    const ended: BatchImageResult[] = [];
    const result = await extractImages(
      [
        TEST_IMAGES.staticNonroot,
        'distroless-contents-test/missing:1',
        TEST_IMAGES.edge,
        `docker.io/${TEST_IMAGES.staticNonroot}`,
      ],
      {
        outputDir,
        jobs: 3,
        base: TEST_IMAGES.shell,
        pull: 'never',
        labels: label.labels,
        onImage: (r) => ended.push(r),
      },
    );
    expect(ended.map((r) => r.reference).sort()).toEqual(
      [TEST_IMAGES.staticNonroot, 'distroless-contents-test/missing:1', TEST_IMAGES.edge].sort(),
    );
    expect(result.failed).toBe(1);
    expect(result.images.map((r) => r.status)).toEqual(['done', 'failed', 'done', 'done']);
    expect(result.images[1]).toMatchObject({
      code: 'IMAGE_NOT_FOUND',
      error: expect.stringMatching(/missing:1/),
    });
    expect(result.images[3]?.output).toBe(result.images[0]?.output);
    for (const image of [result.images[0], result.images[2]]) {
      expect(image?.output).toBe(join(outputDir, folderName(image?.reference ?? '')));
      const manifest = JSON.parse(await readFile(image?.manifest ?? '', 'utf8')) as Manifest;
      expect(manifest.entries.length).toBe(image?.counts?.entries);
      const onDisk = await readDumpTree(image?.output ?? '');
      expect(onDisk.size).toBe(manifest.entries.length);
      expect(
        compareTrees(new Map(manifest.entries.map((e) => [e.path, e])), onDisk, { owners: true }),
      ).toEqual([]);
    }
    expect(await leftovers(label.value)).toEqual([]);
  });
});

describe('npm run extract with several images', () => {
  it('reads --from-file, prints a JSON summary, and exits 1 when an image failed', async () => {
    const list = join(work, 'images.txt');
    await writeFile(
      list,
      `# images to dump\n${TEST_IMAGES.edge}\n\n${TEST_IMAGES.baseNosslNonroot}  # libc6\nnone/such:1\n`,
    );
    const outputDir = join(work, 'cli');
    const result = await runCli([
      'extract',
      '--from-file',
      list,
      '--output-dir',
      outputDir,
      '--json',
      '--method',
      'fast',
      ...base,
    ]);
    expect(result.exitCode, String(result.stderr)).toBe(1);
    const summary = JSON.parse(String(result.stdout)) as { images: BatchImageResult[]; failed: number };
    expect(summary.images.map((i) => [i.reference, i.status])).toEqual([
      [TEST_IMAGES.edge, 'done'],
      [TEST_IMAGES.baseNosslNonroot, 'done'],
      ['none/such:1', 'failed'],
    ]);
    for (const image of summary.images.slice(0, 2)) {
      expect(image).toMatchObject({
        image: { reference: image.reference },
        counts: { entries: expect.any(Number) },
      });
      expect(Number.isInteger(image.durationMs) && image.durationMs > 0).toBe(true);
    }
    expect(summary.failed).toBe(1);
  });

  it('exits 0 when every image succeeded, with one result line per image on stdout', async () => {
    const outputDir = join(work, 'ok');
    const result = await runCli([
      'extract',
      TEST_IMAGES.staticNonroot,
      TEST_IMAGES.edge,
      '--output-dir',
      outputDir,
      ...base,
    ]);
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(String(result.stdout).trim().split('\n')).toEqual([
      expect.stringMatching(
        /^done {4}distroless-contents-test\/static:nonroot -> .*static_nonroot-[0-9a-f]{8} \(\d+ entries/,
      ),
      expect.stringMatching(/^done {4}distroless-contents-test\/edge:latest -> /),
      '2 done, 0 failed',
    ]);
  });

  it.each([
    ['--output with several images', ['a', 'b', '--output', 'x'], /--output names one image's output/],
    [
      '--manifest with --output-dir',
      ['a', '--output-dir', 'd', '--manifest', 'm.json'],
      /--manifest names one image's output/,
    ],
    ['--jobs 0', ['a', 'b', '--output-dir', 'd', '--jobs', '0'], /Invalid --jobs "0"/],
    ['--jobs without a batch', ['a', '--jobs', '3'], /--jobs goes with several images/],
    ['a bad reference in a batch', ['a', 'b c', '--output-dir', 'd'], /Invalid image reference "b c"/],
    ['a missing list', ['--from-file', '/nonexistent/list.txt'], /Cannot read --from-file/],
  ])('refuses %s with exit 2', async (_name, args, pattern) => {
    const result = await runCli(['extract', ...args], {
      cwd: work,
      env: { DOCKER_HOST: 'unix:///nonexistent.sock' },
    });
    expect(String(result.stderr)).toMatch(pattern);
    expect(result.exitCode).toBe(2);
  });
});
