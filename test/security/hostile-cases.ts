import { createHash } from 'node:crypto';
import type { Method } from './guarded-run.js';
import type { HostileLayer } from './hostile-image.js';
import { memberBlocks, type RawEntry } from './raw-tar.js';
import type { RawTreeEntry } from './raw-tree.js';

/**
 * One attack, written as image layers. `canary` is an absolute host folder that exists and must never
 * change; the layers aim at it (and at the output's parent) in the ways extractors have been fooled.
 */
export interface HostileCase {
  readonly name: string;
  /** What the layers try, for the test names and the report. */
  readonly attempt: string;
  readonly layers: (canary: string) => readonly HostileLayer[];
  /** `docker load` refuses the image with a message matching this: nothing of it reaches the tool. */
  readonly refusedAtLoad?: RegExp;
  /**
   * The dump, as overlay2 shows the image (worked out by hand from the layers): path → type, or
   * `symlink -> target`. Paths and targets as `printable()` writes them.
   */
  readonly expected?: (canary: string) => Readonly<Record<string, string>>;
  /** Further checks of the dump (contents, modes, shared inodes); throws on a difference. */
  readonly verify?: (tree: readonly RawTreeEntry[]) => void;
  /** Methods that refuse the image instead of dumping it: their one error line matches this. */
  readonly refusedBy?: Partial<Readonly<Record<Method, RegExp>>>;
  /** Methods that either dump the image faithfully or refuse it so: the engine does one or the other. */
  readonly mayBeRefusedBy?: Partial<Readonly<Record<Method, RegExp>>>;
}

const MTIME = 1700000000;
const file = (name: string | Buffer, content = 'planted\n', extra: Partial<RawEntry> = {}): RawEntry => ({
  name,
  type: 'file',
  content: Buffer.from(content),
  mtime: MTIME,
  ...extra,
});
const dir = (name: string, extra: Partial<RawEntry> = {}): RawEntry => ({ name, type: 'dir', ...extra });
const symlink = (name: string, linkname: string | Buffer): RawEntry => ({
  name,
  type: 'symlink',
  linkname,
  mode: 0o777,
});
const hardlink = (name: string, linkname: string): RawEntry => ({ name, type: 'hardlink', linkname });

/** The directories of `canary` (absolute) recreated below `prefix` in the dump, and `name` below them. */
function below(prefix: string, canary: string, name: string): Record<string, string> {
  const parts = [...prefix.split('/'), ...canary.split('/')].filter(Boolean);
  const shape: Record<string, string> = {};
  for (let i = 1; i <= parts.length; i++) shape[parts.slice(0, i).join('/')] = 'dir';
  shape[[...parts, name].join('/')] = 'file';
  return shape;
}

const sha256 = (content: string) => createHash('sha256').update(content).digest('hex');
const entryAt = (tree: readonly RawTreeEntry[], path: string) =>
  tree.find((entry) => entry.path.toString('latin1') === path);

function expectFile(tree: readonly RawTreeEntry[], path: string, content: string, mode?: number): void {
  const entry = entryAt(tree, path);
  if (entry?.sha256 !== sha256(content) || (mode !== undefined && entry.mode !== mode)) {
    throw new Error(
      `${path} should hold ${JSON.stringify(content)}${mode === undefined ? '' : ` with mode 0${mode.toString(8)}`}; it has sha256 ${entry?.sha256}, mode 0${entry?.mode.toString(8)}`,
    );
  }
}

function expectInodes(tree: readonly RawTreeEntry[], paths: readonly string[], shared: boolean): void {
  const inodes = new Set(paths.map((path) => entryAt(tree, path)?.ino));
  if ((inodes.size === 1) !== shared) {
    throw new Error(`${paths.join(', ')} should ${shared ? '' : 'not '}share one inode`);
  }
}

const SAVE_REFUSED = /^error: docker save of sha256:[0-9a-f]{64} failed: .+/;
const FAST_REFUSES = /^error: --method fast cannot reproduce layer \d+: .+; use --method article\.$/;

/**
 * A member whose ustar name field (cut at 100 bytes, ending in `/`) and PAX path disagree, carrying in its
 * data the header of a member that claims the next real member as its own data. A reader that takes the
 * trailing slash of the name field for a directory (no data) reads the planted header and passes the real
 * member to GNU tar unchecked.
 */
function trailingSlashSmuggler(): RawEntry[] {
  const real = file('escape/pwned', 'written through the symlink\n');
  const realSize = Buffer.concat([...memberBlocks(real)]).length;
  const decoy = Buffer.concat([...memberBlocks({ ...file('decoy', ''), size: realSize })]);
  return [file('x', '', { headerName: Buffer.from(`${'a'.repeat(99)}/`), content: decoy }), real];
}

export const HOSTILE_CASES: readonly HostileCase[] = [
  {
    name: 'symlink-escape-later-layer',
    attempt: 'symlinks to /, .. and a host folder; a later layer writes through each',
    layers: (canary) => [
      [symlink('root', '/'), symlink('up', '..'), symlink('abs', canary)],
      [file(`root${canary}/pwned`), file('up/canary/pwned'), file('abs/pwned')],
    ],
    expected: (canary) => ({
      ...below('root', canary, 'pwned'),
      up: 'dir',
      'up/canary': 'dir',
      'up/canary/pwned': 'file',
      abs: 'dir',
      'abs/pwned': 'file',
    }),
  },
  {
    name: 'symlink-escape-same-layer',
    attempt: 'a symlink to a host folder and a member through it in the same layer',
    layers: (canary) => [[symlink('abs', canary), file('abs/pwned')]],
    refusedAtLoad: /no such file or directory/,
  },
  {
    name: 'symlink-to-itself-same-layer',
    attempt: 'a symlink to . and a member through it in the same layer',
    layers: () => [[symlink('dot', '.'), file('dot/planted')]],
    expected: () => ({ dot: 'symlink -> .', planted: 'file' }),
    refusedBy: { fast: FAST_REFUSES },
  },
  {
    name: 'symlink-replaced-by-file',
    attempt: 'a symlink to a host folder, replaced by a mode 0777 file in a later layer (chmod through it)',
    layers: (canary) => [[symlink('d', canary)], [file('d', 'replaced\n', { mode: 0o777 })]],
    expected: () => ({ d: 'file' }),
    verify: (tree) => expectFile(tree, 'd', 'replaced\n', 0o777),
  },
  {
    name: 'symlink-replaced-by-dir',
    attempt: 'a symlink to a host folder, replaced by a mode 0777 directory with a child in a later layer',
    layers: (canary) => [[symlink('d', canary)], [dir('d', { mode: 0o777 }), file('d/inside')]],
    expected: () => ({ d: 'dir', 'd/inside': 'file' }),
    verify: (tree) => {
      if (entryAt(tree, 'd')?.mode !== 0o777) throw new Error('d should be a mode 0777 directory');
    },
  },
  {
    name: 'dir-replaced-by-symlink-then-written-through',
    attempt: 'a directory, replaced by a symlink to a host folder, then written through',
    layers: (canary) => [[dir('d'), file('d/old')], [symlink('d', canary)], [file('d/pwned')]],
    expected: () => ({ d: 'dir', 'd/pwned': 'file' }),
  },
  {
    name: 'absolute-names',
    attempt: 'member names starting with /, one naming a file in a host folder',
    layers: (canary) => [[file('/abs-file'), file(`${canary}/pwned`)]],
    expected: (canary) => ({ 'abs-file': 'file', ...below('', canary, 'pwned') }),
  },
  {
    name: 'dotdot-names',
    attempt: 'member names climbing out with .. (leading and inner)',
    layers: () => [[file('../pwned'), dir('a'), file('a/../../pwned-too')]],
    expected: () => ({ pwned: 'file', a: 'dir', 'pwned-too': 'file' }),
    refusedBy: { fast: SAVE_REFUSED },
  },
  {
    name: 'hardlink-outside-image',
    attempt: 'a hardlink to /etc/passwd, which the image does not hold',
    layers: () => [[hardlink('hl', '/etc/passwd')]],
    refusedAtLoad: /link \/etc\/passwd \/hl: no such file or directory/,
  },
  {
    name: 'hardlink-dotdot-outside-image',
    attempt: 'a hardlink to ../../../../etc/passwd',
    layers: () => [[hardlink('hl', '../../../../etc/passwd')]],
    refusedAtLoad: /no such file or directory/,
  },
  {
    name: 'hardlink-into-host-folder',
    attempt: 'a hardlink to a file of a host folder',
    layers: (canary) => [[hardlink('hl', `${canary}/file`)]],
    refusedAtLoad: /no such file or directory/,
  },
  {
    name: 'hardlink-through-symlink',
    attempt: 'a hardlink to a file below a symlink to a host folder',
    layers: (canary) => [[symlink('c', canary)], [hardlink('hl', 'c/file')]],
    refusedAtLoad: /no such file or directory/,
  },
  {
    name: 'hardlink-to-directory',
    attempt: 'a hardlink to a directory',
    layers: () => [[dir('dir'), hardlink('hl', 'dir')]],
    refusedAtLoad: /operation not permitted/,
  },
  {
    name: 'hardlink-absolute-target',
    attempt: "a hardlink named by an absolute target (/etc/passwd) that is the image's own file",
    layers: () => [[dir('etc'), file('etc/passwd', 'image passwd\n'), hardlink('hl', '/etc/passwd')]],
    expected: () => ({ etc: 'dir', 'etc/passwd': 'file', hl: 'file' }),
    verify: (tree) => expectInodes(tree, ['etc/passwd', 'hl'], true),
  },
  {
    name: 'hardlink-dotdot-target',
    attempt: "a hardlink named by ../../etc/passwd, which the engine resolves to the image's own file",
    layers: () => [[dir('etc'), file('etc/passwd', 'image passwd\n'), hardlink('hl', '../../etc/passwd')]],
    expected: () => ({ etc: 'dir', 'etc/passwd': 'file', hl: 'file' }),
    verify: (tree) => expectInodes(tree, ['etc/passwd', 'hl'], true),
    refusedBy: { fast: FAST_REFUSES },
  },
  {
    name: 'hardlink-then-overwritten',
    attempt: 'a hardlink to a file, overwritten by a later layer (writing through the shared inode)',
    layers: () => [
      [dir('t'), file('t/file', 'image copy\n'), hardlink('hl', 't/file')],
      [file('hl', 'overwritten\n', { mode: 0o777 })],
    ],
    expected: () => ({ t: 'dir', 't/file': 'file', hl: 'file' }),
    verify: (tree) => {
      expectFile(tree, 't/file', 'image copy\n');
      expectFile(tree, 'hl', 'overwritten\n', 0o777);
      expectInodes(tree, ['t/file', 'hl'], false);
    },
  },
  {
    name: 'hardlink-to-host-symlink-then-overwritten',
    attempt: 'a hardlink to a symlink that points at a host file, overwritten by a later layer',
    layers: (canary) => [[symlink('c', `${canary}/file`), hardlink('hl', 'c')], [file('hl', 'through\n')]],
    expected: (canary) => ({ c: `symlink -> ${canary}/file`, hl: 'file' }),
    verify: (tree) => expectFile(tree, 'hl', 'through\n'),
  },
  {
    name: 'whiteout-dotdot',
    attempt: 'a whiteout naming .. (.wh...)',
    layers: () => [[file('keep')], [file('.wh...', '')]],
    refusedAtLoad: /mknod/,
  },
  {
    name: 'whiteout-through-symlink',
    attempt: 'a whiteout of a host file, below a symlink to its folder',
    layers: (canary) => [[symlink('c', canary)], [file('c/.wh.file', '')]],
    // By the spec the layer leaves `c` unchanged (it does not list it, and a whiteout makes nothing): the
    // symlink stays, never followed. overlay2 would show a folder there.
    expected: (canary) => ({ c: `symlink -> ${canary}` }),
    // The engine's COPY trips over the whiteout; its docker save sometimes reads the layer from a mount.
    refusedBy: { article: /^error: docker build failed: COPY failed: .+/ },
    mayBeRefusedBy: { fast: SAVE_REFUSED },
  },
  {
    name: 'opaque-whiteout-through-symlink',
    attempt: 'an opaque whiteout below a symlink to a host folder (empties it, if followed)',
    layers: (canary) => [[symlink('c', canary)], [dir('c'), file('c/.wh..wh..opq', '')]],
    expected: () => ({ c: 'dir' }),
    mayBeRefusedBy: { fast: SAVE_REFUSED },
  },
  {
    name: 'names-with-newlines-and-invalid-utf8',
    attempt: 'names with newlines and bytes that are not UTF-8, and a symlink target likewise',
    layers: () => [
      [
        file('new\nline'),
        dir('dir\nname'),
        file('dir\nname/file\n'),
        file(Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe])),
        file(Buffer.from([0xc3, 0x28])),
        symlink('link', Buffer.from([0x2f, 0xff, 0x0a])),
      ],
    ],
    expected: () => ({
      'new\\x0aline': 'file',
      'dir\\x0aname': 'dir',
      'dir\\x0aname/file\\x0a': 'file',
      'bad\\xff\\xfe': 'file',
      '\\xc3(': 'file',
      link: 'symlink -> /\\xff\\x0a',
    }),
  },
  {
    name: 'symlink-loop',
    attempt: 'two symlinks pointing at each other, then a member through one',
    layers: () => [[symlink('a', 'b'), symlink('b', 'a')], [file('a/x')]],
    expected: () => ({ a: 'dir', 'a/x': 'file', b: 'symlink -> a' }),
  },
  {
    name: 'device-node-of-a-host-disk',
    attempt: 'a world-writable block device node 8:0 (the first SCSI disk)',
    layers: () => [[dir('dev'), { name: 'dev/disk', type: 'block', devmajor: 8, devminor: 0, mode: 0o666 }]],
    expected: () => ({ dev: 'dir', 'dev/disk': 'block' }),
  },
  {
    name: 'long-name-cut-at-a-slash',
    attempt: 'an ordinary file whose 101-byte path has its 100th byte a / (the ustar name field ends in /)',
    layers: () => [[dir('d'.repeat(99)), file(`${'d'.repeat(99)}/f`, 'ordinary\n')]],
    expected: () => ({ [`${'d'.repeat(99)}`]: 'dir', [`${'d'.repeat(99)}/f`]: 'file' }),
    verify: (tree) => expectFile(tree, `${'d'.repeat(99)}/f`, 'ordinary\n'),
  },
  {
    name: 'smuggled-member-trailing-slash',
    attempt:
      'a file whose ustar name field ends in / hides, in its data, a header that swallows the next member (written through a symlink to a host folder)',
    layers: (canary) => [[symlink('escape', canary)], trailingSlashSmuggler()],
    expected: () => ({ x: 'file', escape: 'dir', 'escape/pwned': 'file' }),
  },
  {
    name: 'smuggled-member-two-pax-headers',
    attempt:
      'two PAX headers before one member: the first names it safe, GNU tar and Go take only the second (and the raw name, through a symlink to a host folder)',
    layers: (canary) => [
      [symlink('escape', canary)],
      [{ ...file('escape/pwned'), paxHeaders: [{ path: 'safe' }, { mtime: String(MTIME) }] }],
    ],
    expected: () => ({ escape: 'dir', 'escape/pwned': 'file' }),
  },
  {
    name: 'long-name-and-pax-path-disagree',
    attempt:
      'a GNU long name and a PAX path name one member differently: Go takes the long name, GNU tar the PAX path (through a symlink to a host folder)',
    layers: (canary) => [
      [symlink('escape', canary)],
      [{ ...file('safe'), paxHeaders: [{ path: 'escape/pwned' }], gnuLongName: 'safe' }],
    ],
    expected: (canary) => ({ escape: `symlink -> ${canary}`, safe: 'file' }),
  },
  {
    name: 'pax-global-header',
    attempt:
      'a PAX global header naming a path: GNU tar gives that name to every later member (through a symlink to a host folder), Go ignores it',
    layers: (canary) => [
      [symlink('escape', canary)],
      [{ ...file('x'), paxGlobal: { path: 'escape/pwned' } }],
    ],
    // Engines ignore a global header; the fast method drops it and GNU tar never sees it.
    expected: (canary) => ({ escape: `symlink -> ${canary}`, x: 'file' }),
  },
  {
    name: 'trailing-slash-typeflags',
    attempt:
      "a type NUL member named with a trailing / (a directory to Go and old tars) and a type '0' one (a file to Go, a directory with no data to GNU tar)",
    layers: () => [[{ name: 'olddir/', type: 'dir', typeflag: '\0' }, file('notadir/', 'a file to Go\n')]],
    expected: () => ({ olddir: 'dir', notadir: 'file' }),
    verify: (tree) => expectFile(tree, 'notadir', 'a file to Go\n'),
  },
  {
    name: 'timestamps-out-of-range',
    attempt:
      'members dated in 2100 and before 1970, which GNU tar warns about (the engine sets the latter to 1970)',
    layers: () => [
      [
        file('future', 'late\n', { mtime: 4102444800 }),
        { ...file('before-1970'), paxHeaders: [{ mtime: '-86400' }] },
      ],
    ],
    expected: () => ({ future: 'file', 'before-1970': 'file' }),
    verify: (tree) => {
      // The engine applies a layer's time before 1970 as the epoch (moby's system.Chtimes).
      const times = ['future', 'before-1970'].map((path) => entryAt(tree, path)?.mtimeMs);
      if (times[0] !== 4102444800000 || times[1] !== 0) {
        throw new Error(
          `future and before-1970 should have mtimes 4102444800000 and 0 ms; they have ${times.join(', ')}`,
        );
      }
    },
  },
];
