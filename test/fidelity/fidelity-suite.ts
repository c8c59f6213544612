import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFidelityImages, FIDELITY_IMAGE_NAMES, fidelityTag } from '../../docker/fidelity-images.js';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { extractImage } from '../../src/index.js';
import type { ExtractMethod } from '../../src/options.js';
import { copyImages, type EngineName, openEngine, type TestEngine } from '../support/engines.js';
import { compareTrees, type DiskEntry, readDumpTree } from '../support/image-tree.js';
import { testLabel } from '../support/leftovers.js';
import { manifestTree, type OracleTree, oracleDifferences, oracleTree } from '../support/oracle.js';
import { expectedDeviation } from './engine-deviations.js';

// Every method x test image on one engine: the dump, and the manifest, equal the image as the oracle
// (skopeo + umoci, see oracle.ts) gives it, entry by entry, but for the deviations engine-deviations.ts names.
// One file per engine, so the engines run side by side.

/**
 * static:nonroot and static:latest are left out for time: base-nossl's lower layer is the very layer they
 * were imported from (only their configs differ), so base-nossl covers every entry of theirs.
 */
export const FIDELITY_TEST_IMAGES: readonly (readonly [string, string])[] = [
  ['base-nossl:nonroot', TEST_IMAGES.baseNosslNonroot],
  ['edge', TEST_IMAGES.edge],
  ...FIDELITY_IMAGE_NAMES.map((name) => [name, fidelityTag(name)] as const),
];
const METHODS: readonly ExtractMethod[] = ['article', 'fast'];

/**
 * Folders umoci gives the time of the unpack (see oracle.ts): edge's layer 3 writes
 * layers/implied-new/deep/file, whose two parents no layer lists, so umoci makes them and changes `layers`.
 */
const ORACLE_STAMPED: Readonly<Record<string, readonly string[]>> = {
  edge: ['layers', 'layers/implied-new', 'layers/implied-new/deep'],
};

export function fidelitySuite(engineName: EngineName): void {
  const label = testLabel();
  const oracles = new Map<string, OracleTree>();
  let engine: TestEngine;
  let work: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'dc-fidelity-'));
    await buildFidelityImages();
    engine = await openEngine(engineName);
    await copyImages(engine, [TEST_IMAGES.shell, ...FIDELITY_TEST_IMAGES.map(([, image]) => image)]);
    // From the engine under test: the image as that engine holds it, read by the oracle's own means.
    for (const [name, image] of FIDELITY_TEST_IMAGES) oracles.set(name, await oracleTree({ engine, image }));
  });

  afterAll(async () => {
    await engine?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it(`has the oracle stamp with the unpack time only folders whose mtime no layer gives, on ${engineName}`, () => {
    const stamped = Object.fromEntries(
      FIDELITY_TEST_IMAGES.map(([name]) => [name, oracles.get(name)?.stamped]),
    );
    expect(stamped).toEqual(
      Object.fromEntries(FIDELITY_TEST_IMAGES.map(([name]) => [name, ORACLE_STAMPED[name] ?? []])),
    );
  });

  // Nothing in a dump may depend on the time of the run: folders a layer changes without listing them are
  // where a load-time stamp would show.
  it.each([
    ['implied', fidelityTag('implied')],
    ['edge', TEST_IMAGES.edge],
  ])(
    `gives the same dump of %s twice with --method fast on ${engineName}, mtimes included`,
    async (name, image) => {
      const trees = [];
      for (const run of [1, 2]) {
        const output = join(work, `twice-${name}-${run}`);
        await extractImage(image, {
          output,
          method: 'fast',
          pull: 'never',
          docker: engine.docker,
          labels: label.labels,
        });
        trees.push(await readDumpTree(output, { xattrs: true }));
        // A second apart, so a stamp of the run's time cannot agree with the first by chance.
        if (run === 1) await new Promise((resolve) => setTimeout(resolve, 1100));
      }
      const [first, second] = trees as [Map<string, DiskEntry>, Map<string, DiskEntry>];
      expect(compareTrees(first, second, { owners: true, dirMtimes: true, xattrs: true })).toEqual([]);
    },
  );

  describe.each(METHODS)(`on ${engineName}, --method %s`, (method) => {
    it.each(FIDELITY_TEST_IMAGES)('dumps %s as the oracle has it', async (name, image) => {
      const oracle = oracles.get(name) as OracleTree;
      const output = join(work, `${method}-${name.replace(/\W/g, '-')}`);
      const { manifest } = await extractImage(image, {
        output,
        method,
        base: TEST_IMAGES.shell,
        pull: 'never',
        docker: engine.docker,
        labels: label.labels,
      });
      const dump = await readDumpTree(output, { xattrs: true });
      const expected = await expectedDeviation({ engine, method, image: name, tag: image, oracle, dump });
      expect(oracleDifferences(oracle, dump)).toEqual(expected.dump);
      expect(oracleDifferences(oracle, manifestTree(manifest.entries))).toEqual(expected.manifest);
    });
  });
}
