import {
  EDGE_CAPABILITY,
  EDGE_DEEP_DIRS,
  EDGE_HUGE_ID,
  EDGE_LONG_NAME,
  EDGE_OLD_MTIME,
  edgeBigFileContent,
} from './edge-image.mjs';

// What distroless-contents-test/edge:latest must hold once its three layers are applied, written out by
// hand from the layer specs' intent (not computed from them), so a reader of the image can be checked.
// Hardlinked names are listed as what they resolve to (type 'file'); hardlinkGroups says which share an inode.

const file = (path, mode, content, extra = {}) => ({
  path,
  type: 'file',
  mode,
  uid: 0,
  gid: 0,
  content,
  ...extra,
});
const dir = (path, mode = 0o755, extra = {}) => ({ path, type: 'dir', mode, uid: 0, gid: 0, ...extra });
const symlink = (path, target) => ({ path, type: 'symlink', uid: 0, gid: 0, target });
const nonroot = { uid: 65532, gid: 65532 };
const deepPath = `names/deep/${EDGE_DEEP_DIRS.join('/')}`;

export const EDGE_IMAGE_CONTENTS = Object.freeze({
  entries: [
    dir('files'),
    file('files/empty', 0o644, ''),
    file('files/small.txt', 0o644, 'hello, layers\n', { mtime: EDGE_OLD_MTIME }),
    file('files/big.bin', 0o644, edgeBigFileContent(), { mtime: 1700000000 }),
    file('files/exec.sh', 0o755, '#!/bin/sh\necho edge\n'),
    dir('files/target with spaces'),
    file('files/target with spaces/ünï ☃.txt', 0o644, 'snowman\n'),

    dir('modes/d000', 0o000),
    file('modes/d000/inside.txt', 0o644, 'inside a mode 000 directory\n'),
    dir('modes/d555', 0o555),
    file('modes/d555/inside.txt', 0o644, 'inside a mode 555 directory\n'),
    dir('modes/d700', 0o700, nonroot),
    dir('modes/d1777', 0o1777),
    dir('modes/d2775', 0o2775, { gid: 50 }),
    file('modes/f000', 0o000, 'no permission bits\n'),
    file('modes/f4755', 0o4755, 'setuid\n'),
    file('modes/f2755', 0o2755, 'setgid\n', { gid: 50 }),
    file('modes/f6755', 0o6755, 'setuid and setgid\n'),

    file('links/original.txt', 0o644, 'linked content\n', { mtime: EDGE_OLD_MTIME }),
    file('links/same-dir-hardlink', 0o644, 'linked content\n', { mtime: EDGE_OLD_MTIME }),
    file('links/sub/other-dir-hardlink', 0o644, 'linked content\n', { mtime: EDGE_OLD_MTIME }),
    symlink('links/absolute', '/files/small.txt'),
    symlink('links/relative-up', '../files/small.txt'),
    symlink('links/dangling', '../no/such/file'),
    symlink('links/to-dir', '../modes'),
    symlink('links/odd-target', '../files/target with spaces/ünï ☃.txt'),

    { path: 'special/fifo', type: 'fifo', mode: 0o644, uid: 0, gid: 0 },
    { path: 'special/null', type: 'char', mode: 0o666, uid: 0, gid: 0, devmajor: 1, devminor: 3 },
    { path: 'special/loop0', type: 'block', mode: 0o660, uid: 0, gid: 6, devmajor: 7, devminor: 0 },

    file('owners/nonroot', 0o644, 'nonroot\n', nonroot),
    file('owners/odd', 0o640, 'uid 1234 gid 5678\n', { uid: 1234, gid: 5678 }),
    file('owners/huge', 0o644, 'uid and gid 4294967294\n', { uid: EDGE_HUGE_ID, gid: EDGE_HUGE_ID }),
    dir('owners/nonroot-dir', 0o700, nonroot),
    file('owners/nonroot-dir/root-file', 0o600, 'root inside nonroot\n'),

    file('names/ünïcødé 文件 ☃.txt', 0o644, 'unicode name\n'),
    dir('names/日本語'),
    file('names/日本語/ファイル', 0o644, 'unicode directory\n'),
    file('names/with  two spaces', 0o644, 'spaces\n'),
    file('names/quote\'double"dollar$backslash\\backtick`star*question?', 0o644, 'shell metacharacters\n'),
    file('names/-rf', 0o644, 'leading dash\n'),
    file(`names/${EDGE_LONG_NAME}`, 0o644, '255-byte name\n'),
    dir(deepPath),
    file(`${deepPath}/bottom.txt`, 0o644, '40 levels down\n'),

    file('caps/net-raw', 0o755, '#!/bin/sh\n', { xattrs: { 'security.capability': EDGE_CAPABILITY } }),

    // Layer 2 re-added it with a new mode and owner.
    file('layers/chmod-me', 0o600, 'same bytes in every layer\n', { uid: 1234, gid: 1234 }),
    // Layer 2 changed the directory's mode and owner; its child from layer 1 stays.
    dir('layers/dir-chmod', 0o700, nonroot),
    file('layers/dir-chmod/keep', 0o644, 'kept below a directory whose mode changes\n'),
    file('layers/dir-to-file', 0o600, 'was a directory\n'),
    dir('layers/file-to-dir', 0o750),
    file('layers/file-to-dir/child', 0o644, 'now inside a directory\n'),
    symlink('layers/file-to-symlink', 'recreate'),
    // Layer 2 replaced hl-a, so hl-b keeps layer 1's bytes and no longer shares an inode with it.
    file('layers/hl-a', 0o644, 'replaced in layer 2\n'),
    file('layers/hl-b', 0o644, 'shared before the split\n'),
    file('layers/new-hard/one', 0o640, 'hardlinked in layer 2\n', { gid: 50 }),
    file('layers/new-hard/three', 0o640, 'hardlinked in layer 2\n', { gid: 50 }),
    file('layers/opaque/-early', 0o644, 'written before the opaque marker\n'),
    file('layers/opaque/new', 0o644, 'new in layer 2\n'),
    file('layers/opaque3/z', 0o644, 'only z is left\n'),
    file('layers/recreate', 0o644, 'v3: back after a whiteout\n', { mtime: 1700000000 }),
    // Layer 3 adds a file below it without listing the directory: overlay2 then shows the directory the
    // engine made for it (0755 root) instead of layer 1's (0700 nonroot). Measured on engine 20.10.
    dir('layers/implied-parent', 0o755),
    file('layers/implied-parent/old', 0o644, 'from layer 1\n'),
    file('layers/implied-parent/new', 0o644, 'parent not listed in layer 3\n'),
    dir('layers/implied-new', 0o755),
    dir('layers/implied-new/deep', 0o755),
    file('layers/implied-new/deep/file', 0o644, 'parents not listed anywhere\n'),
  ],

  absent: [
    'layers/delete-me.txt',
    'layers/delete-dir',
    'layers/delete-dir/a',
    'layers/delete-dir/sub',
    'layers/delete-dir/sub/b',
    'layers/opaque/old1',
    'layers/opaque/oldsub',
    'layers/opaque/oldsub/old2',
    'layers/opaque3/x',
    'layers/opaque3/y',
    'layers/dir-to-file/child',
    'layers/new-hard/two',
  ],

  /** Directories whose children must be exactly these names ('' is the image root). */
  children: {
    '': ['caps', 'files', 'layers', 'links', 'modes', 'names', 'owners', 'special'],
    layers: [
      'chmod-me',
      'dir-chmod',
      'dir-to-file',
      'file-to-dir',
      'file-to-symlink',
      'hl-a',
      'hl-b',
      'implied-new',
      'implied-parent',
      'new-hard',
      'opaque',
      'opaque3',
      'recreate',
    ],
    'layers/opaque': ['-early', 'new'],
    'layers/opaque3': ['z'],
    'layers/new-hard': ['one', 'three'],
    'layers/file-to-dir': ['child'],
    'layers/dir-chmod': ['keep'],
    'layers/implied-parent': ['new', 'old'],
    special: ['fifo', 'loop0', 'null'],
  },

  /** Each list is exactly the set of names sharing one inode. */
  hardlinkGroups: [
    ['links/original.txt', 'links/same-dir-hardlink', 'links/sub/other-dir-hardlink'],
    ['layers/new-hard/one', 'layers/new-hard/three'],
    ['layers/hl-a'],
    ['layers/hl-b'],
  ],
});
