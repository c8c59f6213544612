#!/usr/bin/env zx
// npm run demo: the main job on a machine with no registry. Starts an engine if needed, builds the
// local distroless-static look-alike and a busybox stand-in for alpine, and dumps the look-alike.
import { buildTestImages } from '../docker/build-test-images.mjs';
import { TEST_IMAGES } from '../docker/test-images.mjs';
import { ensureEngine } from './lib/engine.mjs';

const output = argv.output ?? 'distroless-contents';
await ensureEngine();
await buildTestImages();
await $({
  stdio: 'inherit',
})`npx tsx src/cli/main.ts extract ${TEST_IMAGES.staticNonroot} --base ${TEST_IMAGES.shell} --pull never --output ${output} --manifest ${`${output}.json`} --force`;
