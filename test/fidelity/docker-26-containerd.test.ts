import { fidelitySuite } from './fidelity-suite.js';

fidelitySuite('docker-26-containerd');
