import { nothingLeftSuite } from './nothing-left-suite.js';

// The installed Engine 20.10, with its own image store and the legacy builder's intermediate images.
nothingLeftSuite({});
