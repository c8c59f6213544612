// Every Docker test needs a real engine, the locally built test images and the programs the
// interactive and page tests drive. Where one is missing the setup provisions it (Debian, as root)
// or fails saying how: Docker tests are never silently skipped.
import { buildTestImages } from '../docker/build-test-images.mjs';
import { ensureEngine } from '../scripts/lib/engine.mjs';
import { ensureModernEngine } from '../scripts/lib/modern-engine.mjs';
import { ensureCommands } from '../scripts/lib/system-packages.mjs';
import { hostBridgeExists } from './support/engine-bridge.js';

export default async function setup(): Promise<() => Promise<void>> {
  await ensureCommands({
    tmux: 'tmux',
    chromium: 'chromium',
    'docker-registry': 'docker-registry',
    htpasswd: 'apache2-utils',
    openssl: 'openssl',
    tree: 'tree',
    podman: 'podman',
    // The differential tar test compiles a reader with Go's own archive/tar (about 20 s to install).
    go: 'golang-go',
    skopeo: 'skopeo',
    umoci: 'umoci',
    getfattr: 'attr',
    zstd: 'zstd',
  });
  await ensureEngine();
  // Engines the tests start must never take the main engine's bridge with them (builds with RUN need it).
  const bridgeAtStart = await hostBridgeExists();
  await ensureModernEngine();
  await buildTestImages();
  return async () => {
    if (bridgeAtStart && !(await hostBridgeExists())) {
      throw new Error(
        "the main engine's docker0 bridge disappeared during the run: a test-owned engine took it",
      );
    }
  };
}
