import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { execa } from 'execa';
import { writeDockerArchive } from '../../docker/docker-archive.mjs';
import type { RawEntry } from '../security/raw-tar.js';
import { writeRawTar } from '../security/raw-tar.js';
import { TEST_LABEL } from '../support/leftovers.js';

// An image for --path whose facts are known: folders above the selected paths with owners, modes and times
// of their own; a whiteout and an opaque folder inside a selected path and above one; a whiteout of a whole
// top folder, made again by a later layer; a symlink to a selected folder, and one in the way of a path;
// and a big file outside every selected path, to show its body never reaches the disk.
// Every folder a layer writes in is listed by that layer, so no engine deviates from the spec here (the
// README's table): both methods on every engine must give exactly the oracle's tree.

/** The selection the tests dump. */
export const SELECTED = ['/etc', '/opt/app/conf', '/srv/new', '/link'] as const;
/** Bytes of the file no selection holds: larger than the tmpfs the disk test writes on. */
export const BIG_SIZE = 24 * 1024 * 1024;

const dir = (name: string, mode: number, uid: number, gid: number, mtime: number): RawEntry => ({
  name: `${name}/`,
  type: 'dir',
  mode,
  uid,
  gid,
  mtime,
});
const file = (name: string, text: string, mtime = 1_600_000_100, uid = 0): RawEntry => ({
  name,
  type: 'file',
  mode: 0o644,
  uid,
  gid: uid,
  mtime,
  content: Buffer.from(text),
});
const whiteout = (name: string): RawEntry => ({ name, type: 'file', mode: 0o644, mtime: 1_600_000_000 });

/** Lowest first. */
export function fixtureLayers(): RawEntry[][] {
  return [
    [
      dir('etc', 0o755, 0, 0, 1_600_000_001),
      file('etc/keep', 'kept\n'),
      file('etc/gone', 'whited out by layer 2\n'),
      dir('etc/sub', 0o750, 0, 4, 1_600_000_002),
      file('etc/sub/old', 'hidden by the opaque marker of layer 2\n'),
      file('etc/hard-a', 'one inode, two names\n', 1_600_000_003, 9),
      {
        name: 'etc/hard-b',
        type: 'hardlink',
        linkname: 'etc/hard-a',
        mode: 0o644,
        uid: 9,
        gid: 9,
        mtime: 1_600_000_003,
      },
      dir('opt', 0o750, 5, 6, 1_600_000_010),
      dir('opt/app', 0o700, 7, 8, 1_600_000_011),
      dir('opt/app/conf', 0o755, 7, 8, 1_600_000_012),
      file('opt/app/conf/a', 'a, lower\n'),
      file('opt/app/conf/b', 'b, hidden by the opaque marker above it\n'),
      file('opt/app/readme', 'outside the selection\n'),
      dir('opt/other', 0o755, 0, 0, 1_600_000_013),
      { ...file('opt/other/big', ''), content: Buffer.alloc(BIG_SIZE, 0x5a) },
      dir('srv', 0o711, 3, 3, 1_600_000_020),
      dir('srv/new', 0o755, 3, 3, 1_600_000_021),
      file('srv/new/stale', 'gone with srv in layer 2\n'),
      file('srv/old', 'gone with srv in layer 2\n'),
      dir('usr', 0o755, 0, 0, 1_600_000_030),
      dir('usr/bin', 0o755, 0, 0, 1_600_000_031),
      file('usr/bin/tool', 'outside the selection\n'),
      { name: 'bin', type: 'symlink', linkname: 'usr/bin', mtime: 1_600_000_032 },
      { name: 'link', type: 'symlink', linkname: 'opt/app/conf', uid: 2, gid: 2, mtime: 1_600_000_033 },
    ],
    [
      dir('etc', 0o755, 0, 0, 1_600_000_101),
      whiteout('etc/.wh.gone'),
      dir('etc/sub', 0o750, 0, 4, 1_600_000_102),
      whiteout('etc/sub/.wh..wh..opq'),
      file('etc/sub/new', 'written with the opaque marker\n'),
      dir('opt', 0o750, 5, 6, 1_600_000_010),
      dir('opt/app', 0o700, 7, 8, 1_600_000_111),
      whiteout('opt/app/.wh..wh..opq'),
      dir('opt/app/conf', 0o750, 7, 8, 1_600_000_112),
      file('opt/app/conf/a', 'a, upper\n'),
      whiteout('.wh.srv'),
    ],
    [
      dir('srv', 0o755, 0, 0, 1_600_000_201),
      dir('srv/new', 0o700, 1, 1, 1_600_000_202),
      file('srv/new/fresh', 'new\n'),
      // One inode below two selected paths: the article method's two COPY steps would make two files.
      dir('etc', 0o755, 0, 0, 1_600_000_101),
      {
        name: 'etc/linked',
        type: 'hardlink',
        linkname: 'srv/new/fresh',
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: 1_600_000_100,
      },
    ],
  ];
}

/** Writes the fixture as a docker-archive (no engine needed to read it) and loads it into the main engine. */
export async function writeFixture(work: string, label: string): Promise<{ archive: string; tag: string }> {
  const layers: { file: string; diffId: string }[] = [];
  for (const [index, entries] of fixtureLayers().entries()) {
    const path = join(work, `paths-layer-${index + 1}.tar`);
    layers.push({ file: path, diffId: await writeRawTar(entries, path) });
  }
  const id = createHash('sha256').update(label).digest('hex').slice(0, 8);
  const tag = `distroless-contents-test/paths:${id}`;
  const archive = join(work, 'paths.docker.tar');
  await writeDockerArchive({
    file: archive,
    tag,
    layers,
    config: {
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: { [TEST_LABEL]: label }, Cmd: ['/nothing'] },
    },
  });
  await execa('docker', ['load', '--quiet', '--input', archive], {
    env: { DOCKER_HOST: 'unix:///var/run/docker.sock', DOCKER_CONTEXT: '' },
  });
  return { archive, tag };
}
