#!/usr/bin/env zx
// npm run engine: make sure a Docker engine answers (on Debian as root: install and start docker.io).
import { ensureEngine } from './lib/engine.mjs';

await ensureEngine();
console.log('Docker engine is up.');
