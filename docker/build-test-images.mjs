import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withBuildLock } from './build-lock.mjs';
import { downloadPackages, packageInputs } from './debian-packages.mjs';
import { inspectImage, removeUntaggedImage } from './docker-cli.mjs';
import { buildEdgeImage } from './edge-image.mjs';
import { buildShellImage, SHELL_PACKAGES } from './shell-image.mjs';
import { buildStaticImages, STATIC_FAMILY_PACKAGES } from './static-images.mjs';
import { RECIPE_LABEL, TEST_IMAGES } from './test-images.mjs';

const RECIPES = [
  { name: 'shell', tags: [TEST_IMAGES.shell], packages: SHELL_PACKAGES, build: buildShellImage },
  {
    // One recipe: base-nossl must reuse the exact layer the static tags were imported from.
    name: 'static',
    tags: [TEST_IMAGES.staticNonroot, TEST_IMAGES.staticLatest, TEST_IMAGES.baseNosslNonroot],
    packages: STATIC_FAMILY_PACKAGES,
    build: buildStaticImages,
  },
  { name: 'edge', tags: [TEST_IMAGES.edge], packages: [], build: buildEdgeImage },
];

/**
 * Makes sure every image in TEST_IMAGES exists in the local engine and was built by the current recipe
 * from the current inputs (the label RECIPE_LABEL holds their hash); builds only what is missing or stale.
 * Returns how long each rebuilt recipe took, in ms (package downloads not included; they are logged).
 */
export async function buildTestImages({ force = false, log = console.error } = {}) {
  return withBuildLock(async () => {
    const sourceHash = await recipeSourceHash();
    const inputs = await packageInputs(
      RECIPES.flatMap((r) => r.packages),
      log,
    );
    const stale = [];
    for (const recipe of RECIPES) {
      const hash = createHash('sha256')
        .update(JSON.stringify([sourceHash, recipe.name, recipe.packages.map((p) => [p, inputs[p]])]))
        .digest('hex');
      const images = await Promise.all(recipe.tags.map(inspectImage));
      if (force || images.some((image) => image?.labels[RECIPE_LABEL] !== hash)) {
        stale.push({ recipe, hash, oldIds: images.flatMap((image) => (image ? [image.id] : [])) });
      }
    }
    const timings = {};
    if (stale.length === 0) return timings;

    const workDir = await mkdtemp(join(tmpdir(), 'distroless-contents-test-images-'));
    let failed = false;
    try {
      const packages = [...new Set(stale.flatMap((s) => s.recipe.packages))];
      const downloadStarted = performance.now();
      const debs = packages.length > 0 ? await downloadPackages(packages, workDir, log) : new Map();
      if (packages.length > 0) {
        log(
          `test images: downloaded ${packages.join(', ')} in ${Math.round(performance.now() - downloadStarted)} ms`,
        );
      }
      for (const { recipe, hash, oldIds } of stale) {
        const started = performance.now();
        log(`test images: building ${recipe.tags.join(', ')}`);
        await recipe.build({ debs, workDir, labels: { [RECIPE_LABEL]: hash }, log });
        timings[recipe.name] = Math.round(performance.now() - started);
        log(`test images: built ${recipe.name} in ${timings[recipe.name]} ms`);
        for (const id of new Set(oldIds)) await removeUntaggedImage(id, RECIPE_LABEL, log);
      }
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      await rm(workDir, { recursive: true, force: true }).catch((error) => {
        if (!failed) throw error;
      });
    }
    return timings;
  }, log);
}

/** Hash of every module of this builder: a change to any recipe rebuilds. */
async function recipeSourceHash() {
  const here = dirname(fileURLToPath(import.meta.url));
  const hash = createHash('sha256');
  for (const name of (await readdir(here)).filter((n) => n.endsWith('.mjs')).sort()) {
    hash
      .update(name)
      .update('\0')
      .update(await readFile(join(here, name)))
      .update('\0');
  }
  return hash.digest('hex');
}
