import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { TEST_IMAGES } from '../../docker/test-images.mjs';

/** A base whose /bin/sh sleeps for an hour: the article's container then stays in its run step. */
export const SLOW_SHELL_IMAGE = 'distroless-contents-test/slow-shell:latest';

export async function ensureSlowShellImage(): Promise<string> {
  if ((await execa('docker', ['image', 'inspect', SLOW_SHELL_IMAGE], { reject: false })).exitCode === 0) {
    return SLOW_SHELL_IMAGE;
  }
  const context = await mkdtemp(join(tmpdir(), 'dc-slow-shell-'));
  try {
    await writeFile(
      join(context, 'Dockerfile'),
      `FROM ${TEST_IMAGES.shell}\n` +
        `RUN rm /bin/sh && printf '#!/bin/busybox sh\\nexec /bin/busybox sleep 3600\\n' > /bin/sh && chmod 755 /bin/sh\n`,
    );
    await execa('docker', [
      'build',
      '-q',
      // Needs no network: a build must not depend on the main engine's bridge.
      '--network',
      'none',
      '--label',
      'dev.distroless-contents.test=fixture',
      '-t',
      SLOW_SHELL_IMAGE,
      context,
    ]);
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  return SLOW_SHELL_IMAGE;
}
