import { MODERN_ROOT } from '../../scripts/lib/modern-engine.mjs';
import { nothingLeftSuite } from './nothing-left-suite.js';

// Debian 13's Docker 26 with the containerd image store, from the root the global setup built and mounted.
nothingLeftSuite({ root: MODERN_ROOT });
