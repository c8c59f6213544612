import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { writeDockerArchive } from './docker-archive.mjs';
import { loadArchive } from './docker-cli.mjs';
import { engineArchitecture } from './static-images.mjs';
import { writeLayerTar } from './tar-layer.mjs';
import { TEST_IMAGES } from './test-images.mjs';

// Layer specs for distroless-contents-test/edge:latest. What the final image must hold is described
// separately, by hand, in edge-image-contents.mjs, so a test can hold any reader of the image to it.

const MTIME = 1700000000;
/** 2001-02-03T04:05:06Z: an old fixed mtime that must survive a dump. */
export const EDGE_OLD_MTIME = Date.UTC(2001, 1, 3, 4, 5, 6) / 1000;
/** (uid_t)-2, the largest owner Linux accepts besides the invalid (uid_t)-1; needs a PAX header. */
export const EDGE_HUGE_ID = 4294967294;
export const EDGE_BIG_FILE_SIZE = 1536 * 1024 + 7;
/** 255 bytes, the longest name Linux allows for one path component. */
export const EDGE_LONG_NAME = `long-name-${'x'.repeat(245)}`;
export const EDGE_DEEP_DIRS = Array.from({ length: 40 }, (_, i) => `level-${String(i + 1).padStart(2, '0')}`);
// vfs_cap_data revision 2 with the effective flag: cap_net_raw (bit 13) permitted, nothing inheritable.
export const EDGE_CAPABILITY = Buffer.from([
  0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
]);

/** 1.5 MiB + 7 bytes that neither compress nor repeat: a SHA-256 counter stream. */
export function edgeBigFileContent() {
  const blocks = [];
  for (let i = 0; i * 32 < EDGE_BIG_FILE_SIZE; i++) {
    blocks.push(createHash('sha256').update(`edge-big-${i}`).digest());
  }
  return Buffer.concat(blocks).subarray(0, EDGE_BIG_FILE_SIZE);
}

const meta = (mode, extra) => ({ mode, uid: 0, gid: 0, mtime: MTIME, ...extra });
const dir = (name, mode = 0o755, extra = {}) => ({ name, type: 'directory', ...meta(mode, extra) });
const file = (name, content, mode = 0o644, extra = {}) => ({
  name,
  type: 'file',
  ...meta(mode, extra),
  content: Buffer.from(content),
});
// Real tar writers give a hardlink the target's metadata, and the engine applies it to the shared inode.
const hardlink = (name, target) => ({
  name,
  type: 'link',
  linkname: target.name,
  mode: target.mode,
  uid: target.uid,
  gid: target.gid,
  mtime: target.mtime,
});
const symlink = (name, linkname) => ({ name, type: 'symlink', linkname, ...meta(0o777) });
const whiteout = (name) => file(name, '', 0o644);
const hugeOwner = {
  uid: EDGE_HUGE_ID,
  gid: EDGE_HUGE_ID,
  pax: { uid: String(EDGE_HUGE_ID), gid: String(EDGE_HUGE_ID) },
};

function layer1() {
  const original = file('links/original.txt', 'linked content\n', 0o644, { mtime: EDGE_OLD_MTIME });
  const hlA = file('./layers/hl-a', 'shared before the split\n');
  const deep = EDGE_DEEP_DIRS.map((_, i) => dir(`names/deep/${EDGE_DEEP_DIRS.slice(0, i + 1).join('/')}`));
  return [
    dir('./'),
    dir('files/'),
    file('files/empty', ''),
    file('./files/small.txt', 'hello, layers\n', 0o644, { mtime: EDGE_OLD_MTIME }),
    file('files/big.bin', edgeBigFileContent()),
    file('files/exec.sh', '#!/bin/sh\necho edge\n', 0o755),
    dir('files/target with spaces'),
    file('files/target with spaces/ünï ☃.txt', 'snowman\n'),

    dir('modes'),
    dir('modes/d000', 0o000),
    file('modes/d000/inside.txt', 'inside a mode 000 directory\n'),
    dir('./modes/d555/', 0o555),
    file('./modes/d555/inside.txt', 'inside a mode 555 directory\n'),
    dir('modes/d700', 0o700, { uid: 65532, gid: 65532 }),
    dir('modes/d1777', 0o1777),
    dir('modes/d2775', 0o2775, { gid: 50 }),
    file('modes/f000', 'no permission bits\n', 0o000),
    file('modes/f4755', 'setuid\n', 0o4755),
    file('modes/f2755', 'setgid\n', 0o2755, { gid: 50 }),
    file('modes/f6755', 'setuid and setgid\n', 0o6755),

    dir('links'),
    original,
    hardlink('links/same-dir-hardlink', original),
    dir('links/sub'),
    { ...hardlink('links/sub/other-dir-hardlink', original), linkname: './links/original.txt' },
    symlink('links/absolute', '/files/small.txt'),
    symlink('links/relative-up', '../files/small.txt'),
    symlink('links/dangling', '../no/such/file'),
    symlink('./links/to-dir', '../modes'),
    symlink('links/odd-target', '../files/target with spaces/ünï ☃.txt'),

    dir('special'),
    { name: 'special/fifo', type: 'fifo', ...meta(0o644) },
    { name: 'special/null', type: 'character-device', devmajor: 1, devminor: 3, ...meta(0o666) },
    { name: 'special/loop0', type: 'block-device', devmajor: 7, devminor: 0, ...meta(0o660, { gid: 6 }) },

    dir('owners'),
    file('owners/nonroot', 'nonroot\n', 0o644, { uid: 65532, gid: 65532 }),
    file('owners/odd', 'uid 1234 gid 5678\n', 0o640, { uid: 1234, gid: 5678 }),
    file('owners/huge', 'uid and gid 4294967294\n', 0o644, hugeOwner),
    dir('owners/nonroot-dir', 0o700, { uid: 65532, gid: 65532 }),
    file('owners/nonroot-dir/root-file', 'root inside nonroot\n', 0o600),

    dir('names'),
    file('names/ünïcødé 文件 ☃.txt', 'unicode name\n'),
    dir('names/日本語'),
    file('names/日本語/ファイル', 'unicode directory\n'),
    file('names/with  two spaces', 'spaces\n'),
    file('names/quote\'double"dollar$backslash\\backtick`star*question?', 'shell metacharacters\n'),
    file('names/-rf', 'leading dash\n'),
    file(`names/${EDGE_LONG_NAME}`, '255-byte name\n'),
    dir('names/deep'),
    ...deep,
    file(`names/deep/${EDGE_DEEP_DIRS.join('/')}/bottom.txt`, '40 levels down\n'),

    dir('caps'),
    file('caps/net-raw', '#!/bin/sh\n', 0o755, {
      pax: { 'SCHILY.xattr.security.capability': EDGE_CAPABILITY.toString('latin1') },
    }),

    dir('layers'),
    file('layers/delete-me.txt', 'deleted by layer 2\n'),
    dir('layers/delete-dir'),
    file('layers/delete-dir/a', 'a\n'),
    dir('layers/delete-dir/sub'),
    file('layers/delete-dir/sub/b', 'b\n'),
    dir('layers/opaque'),
    file('layers/opaque/old1', 'hidden by the opaque marker\n'),
    dir('layers/opaque/oldsub'),
    file('layers/opaque/oldsub/old2', 'hidden too\n'),
    dir('layers/opaque3'),
    file('layers/opaque3/x', 'x from layer 1\n'),
    file('layers/file-to-dir', 'a file in layer 1\n'),
    dir('layers/dir-to-file'),
    file('layers/dir-to-file/child', 'child of a directory that becomes a file\n'),
    file('layers/file-to-symlink', 'a file in layer 1\n'),
    file('layers/chmod-me', 'same bytes in every layer\n'),
    dir('layers/dir-chmod'),
    file('layers/dir-chmod/keep', 'kept below a directory whose mode changes\n'),
    file('layers/recreate', 'v1\n'),
    dir('layers/implied-parent', 0o700, { uid: 65532, gid: 65532 }),
    file('layers/implied-parent/old', 'from layer 1\n'),
    hlA,
    hardlink('./layers/hl-b', hlA),
  ];
}

function layer2() {
  const one = file('./layers/new-hard/one', 'hardlinked in layer 2\n', 0o640, { gid: 50 });
  return [
    dir('./layers/'),
    whiteout('./layers/.wh.delete-me.txt'),
    whiteout('./layers/.wh.delete-dir'),
    dir('./layers/opaque/'),
    // Sorts before the marker: the marker must hide only what lower layers put here.
    file('./layers/opaque/-early', 'written before the opaque marker\n'),
    whiteout('./layers/opaque/.wh..wh..opq'),
    file('./layers/opaque/new', 'new in layer 2\n'),
    dir('./layers/opaque3/'),
    file('./layers/opaque3/y', 'y from layer 2\n'),
    dir('./layers/file-to-dir/', 0o750),
    file('./layers/file-to-dir/child', 'now inside a directory\n'),
    file('./layers/dir-to-file', 'was a directory\n', 0o600),
    file('./layers/chmod-me', 'same bytes in every layer\n', 0o600, { uid: 1234, gid: 1234 }),
    dir('./layers/dir-chmod/', 0o700, { uid: 65532, gid: 65532 }),
    whiteout('./layers/.wh.recreate'),
    file('./layers/hl-a', 'replaced in layer 2\n'),
    dir('./layers/new-hard/'),
    one,
    hardlink('./layers/new-hard/two', one),
    { ...hardlink('./layers/new-hard/three', one), linkname: 'layers/new-hard/one' },
  ];
}

function layer3() {
  return [
    dir('layers'),
    file('./layers/recreate', 'v3: back after a whiteout\n'),
    dir('layers/opaque3'),
    whiteout('layers/opaque3/.wh..wh..opq'),
    file('./layers/opaque3/z', 'only z is left\n'),
    dir('./layers/new-hard'),
    whiteout('layers/new-hard/.wh.two'),
    symlink('layers/file-to-symlink', 'recreate'),
    // No entries for these parents: the engine makes them, and they replace layer 1's directory.
    file('layers/implied-parent/new', 'parent not listed in layer 3\n'),
    file('./layers/implied-new/deep/file', 'parents not listed anywhere\n'),
  ];
}

export async function buildEdgeImage({ workDir, labels }) {
  const layers = [];
  for (const [i, entries] of [layer1(), layer2(), layer3()].entries()) {
    const layerFile = join(workDir, `edge-layer-${i + 1}.tar`);
    layers.push({ file: layerFile, diffId: await writeLayerTar(entries, layerFile) });
  }
  const created = new Date(MTIME * 1000).toISOString();
  const archive = join(workDir, 'edge.tar');
  await writeDockerArchive({
    file: archive,
    tag: TEST_IMAGES.edge,
    layers,
    config: {
      architecture: engineArchitecture(),
      os: 'linux',
      created,
      // No Cmd and no Entrypoint, like distroless.
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Labels: labels },
      history: ['files, modes, links, owners, names', 'whiteouts and replacements', 'more whiteouts'].map(
        (what) => ({ created, created_by: `edge layer: ${what}` }),
      ),
    },
  });
  await loadArchive(archive);
}
