import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Dockerode from 'dockerode';
import { execa } from 'execa';

/** What the engine's init layer adds to every container (facts/docker-and-tar.md): no image holds these. */
export const INIT_LAYER_PATHS: readonly string[] = [
  '.dockerenv',
  'dev',
  'dev/console',
  'dev/pts',
  'dev/shm',
  'etc',
  'etc/hostname',
  'etc/hosts',
  'etc/mtab',
  'etc/resolv.conf',
  'proc',
  'sys',
];

/**
 * The engine's own merge of the image's layers: `docker export` of a created, never started container,
 * unpacked by GNU tar as root (owners, modes, devices, xattrs kept) into the existing folder `dir`.
 * The init layer's paths come along; see INIT_LAYER_PATHS.
 */
export async function exportImageToFolder(docker: Dockerode, image: string, dir: string): Promise<void> {
  const container = await docker.createContainer({
    Image: image,
    // Distroless-like images have no command, and create refuses an image without one; it never runs.
    Cmd: ['/nonexistent'],
    Labels: { 'dev.distroless-contents.test': 'export-image' },
  });
  let failed = false;
  try {
    const archive = (await container.export()) as Readable;
    const tar = execa('tar', ['-x', '-p', '--numeric-owner', '--xattrs', '--xattrs-include=*', '-C', dir]);
    await Promise.all([pipeline(archive, tar.stdin), tar]);
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    await container.remove({ force: true }).catch((error: unknown) => {
      if (!failed) throw error;
    });
  }
}
