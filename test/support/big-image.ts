import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { TEST_IMAGES } from '../../docker/test-images.mjs';

/** 360 MB of random files: big enough that the build's COPY and the copy out take long enough to interrupt. */
export const BIG_IMAGE = 'distroless-contents-test/big:latest';

export async function ensureBigImage(): Promise<string> {
  if ((await execa('docker', ['image', 'inspect', BIG_IMAGE], { reject: false })).exitCode === 0)
    return BIG_IMAGE;
  const context = await mkdtemp(join(tmpdir(), 'dc-big-'));
  try {
    await mkdir(context, { recursive: true });
    await writeFile(
      join(context, 'Dockerfile'),
      `FROM ${TEST_IMAGES.shell}\nRUN for i in 1 2 3 4 5 6; do head -c 60000000 /dev/urandom > /blob$i; done\n`,
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
      BIG_IMAGE,
      context,
    ]);
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  return BIG_IMAGE;
}
