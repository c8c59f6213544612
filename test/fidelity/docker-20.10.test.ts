import { fidelitySuite } from './fidelity-suite.js';

fidelitySuite('docker-20.10');
