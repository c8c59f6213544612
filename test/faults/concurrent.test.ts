import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import type { Manifest } from '../../src/manifest.js';
import { printable } from '../security/guarded-run.js';
import { readRawTree } from '../security/raw-tree.js';
import { runCli } from '../support/cli.js';
import { leftovers, testLabel } from '../support/leftovers.js';

// Eight extractions of one image at once, into eight folders: each must succeed on its own, none may take
// or remove what another made (intermediate images, staging folders), and all must write the same thing.

const RUNS = 8;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-concurrent-'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe.each(['article', 'fast'] as const)('%s method', (method) => {
  it(`${RUNS} extractions of the edge image at once all succeed with identical results`, async () => {
    const dir = join(work, method);
    await mkdir(dir);
    const label = testLabel();
    const results = await Promise.all(
      Array.from({ length: RUNS }, (_, i) =>
        runCli([
          'extract',
          TEST_IMAGES.edge,
          '--method',
          method,
          '--base',
          TEST_IMAGES.shell,
          '--pull',
          'never',
          '--quiet',
          '-o',
          join(dir, `out-${i}`),
          '--manifest',
          join(dir, `out-${i}.json`),
          '--label',
          label.arg,
        ]),
      ),
    );
    for (const result of results) expect(result.exitCode, String(result.stderr)).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(
      Array.from({ length: RUNS }, (_, i) => [`out-${i}`, `out-${i}.json`])
        .flat()
        .sort(),
    );
    expect(await leftovers(label.value)).toEqual([]);

    const manifests = await Promise.all(
      Array.from(
        { length: RUNS },
        async (_, i) => (JSON.parse(await readFile(join(dir, `out-${i}.json`), 'utf8')) as Manifest).entries,
      ),
    );
    const trees = await Promise.all(
      Array.from({ length: RUNS }, async (_, i) =>
        (await readRawTree(join(dir, `out-${i}`))).map(({ path, ino: _ino, target, ...rest }) => ({
          ...rest,
          path: printable(path),
          ...(target && { target: printable(target) }),
        })),
      ),
    );
    expect(manifests[0]?.length).toBeGreaterThan(50);
    for (let i = 1; i < RUNS; i++) {
      expect(manifests[i], `run ${i}'s manifest`).toEqual(manifests[0]);
      expect(trees[i], `run ${i}'s tree`).toEqual(trees[0]);
    }
  });
});
