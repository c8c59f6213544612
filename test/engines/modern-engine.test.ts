import Dockerode from 'dockerode';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { MODERN_BRIDGE, MODERN_SOCKET } from '../../scripts/lib/modern-engine.mjs';
import { hostBridgeExists } from '../support/engine-bridge.js';

// The second engine the global setup provisions: what users run now, not Debian 12's 20.10.
describe('the modern engine', () => {
  it('is Docker 26 with the containerd image store, on a bridge of its own, beside the main engine’s docker0', async () => {
    const info = await new Dockerode({ socketPath: MODERN_SOCKET }).info();
    expect(info.ServerVersion).toMatch(/^26\./);
    expect(info.DriverStatus).toContainEqual(['driver-type', 'io.containerd.snapshotter.v1']);
    expect(await hostBridgeExists()).toBe(true);
    expect((await execa('ip', ['link', 'show', MODERN_BRIDGE], { reject: false })).exitCode).toBe(0);
  });
});
