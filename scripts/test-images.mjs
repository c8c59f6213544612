#!/usr/bin/env zx
// npm run test-images [-- --force]: build the local test images that are missing or stale (--force: all).
import { argv } from 'zx';
import { buildTestImages } from '../docker/build-test-images.mjs';
import { TEST_IMAGES } from '../docker/test-images.mjs';

const timings = await buildTestImages({ force: Boolean(argv.force) });
for (const [recipe, ms] of Object.entries(timings)) console.log(`built ${recipe} in ${ms} ms`);
console.log(`Test images are current:\n  ${Object.values(TEST_IMAGES).join('\n  ')}`);
