import { copyFile, lstat, mkdir, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { extractPackage } from './debian-packages.mjs';
import { importRootfsTar, labelChanges } from './docker-cli.mjs';
import {
  makeRootfsDir,
  makeRootfsSymlink,
  settleDirectoryMtimes,
  tarRootfs,
  writeRootfsFile,
} from './rootfs-tar.mjs';
import { TEST_IMAGES } from './test-images.mjs';

export const SHELL_PACKAGES = ['busybox-static'];

const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Stand-in for alpine:3.20.3 (a small base with a shell, for the article's `FROM base; COPY --from=IMAGE`):
 * Debian's static busybox at /bin/busybox and every applet as a symlink to it, as Alpine lays them out.
 */
export async function buildShellImage({ debs, workDir, labels }) {
  const unpacked = join(workDir, 'busybox-static');
  const root = join(workDir, 'shell-rootfs');
  await extractPackage(debs.get('busybox-static'), unpacked);
  await mkdir(join(root, 'bin'), { recursive: true });
  const busybox = join(root, 'bin/busybox');
  await copyFile(join(unpacked, 'bin/busybox'), busybox);
  const packaged = await stat(join(unpacked, 'bin/busybox'));
  await utimes(busybox, packaged.mtime, packaged.mtime);

  // The package's own static binary runs on the host, so its applet list needs no busybox installed here.
  const { stdout } = await execa(busybox, ['--list']);
  for (const applet of stdout.split('\n').filter((a) => a && a !== 'busybox')) {
    const exists = await lstat(join(root, 'bin', applet)).catch(() => null);
    if (!exists) await makeRootfsSymlink(root, `bin/${applet}`, '/bin/busybox');
  }
  for (const dir of ['usr/bin', 'usr/sbin', 'sbin', 'etc', 'home']) await makeRootfsDir(root, dir);
  await makeRootfsDir(root, 'root', { mode: 0o700 });
  await makeRootfsDir(root, 'tmp', { mode: 0o1777 });
  await writeRootfsFile(root, 'etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n');
  await writeRootfsFile(root, 'etc/group', 'root:x:0:root\n');
  await settleDirectoryMtimes(root);

  const layer = join(workDir, 'shell.tar');
  await tarRootfs(root, layer);
  await importRootfsTar(layer, TEST_IMAGES.shell, [
    'CMD ["/bin/sh"]',
    `ENV ${PATH_ENV}`,
    ...labelChanges(labels),
  ]);
}
