import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';

/** A byte string from text and raw bytes: `b('n', 0xff)` is `n` then the byte 0xFF (not UTF-8). */
export function b(...parts: (string | number)[]): Buffer {
  return Buffer.concat(
    parts.map((part) => (typeof part === 'number' ? Buffer.of(part) : Buffer.from(part, 'utf8'))),
  );
}

/** One entry of a tree to write: a file (content, mode), a symlink (link) or a hardlink to an earlier file. */
export interface TreeFile {
  readonly path: Buffer;
  readonly content?: Buffer;
  readonly mode?: number;
  readonly link?: Buffer;
  readonly hardlink?: Buffer;
}

const ESC = '\x1b';
/** Sets the terminal's title (OSC 2), clears the screen and homes the cursor. */
export const OSC_TITLE = `${ESC}]2;PWNED${'\x07'}`;
export const CLEAR = `${ESC}[2J${ESC}[H`;

/**
 * Where a hostile image's names, targets and fields end up: every class of character a terminal acts on or
 * hides, and bytes that are not UTF-8 (the passwd it links to, a package's stanza file, two names one byte
 * apart). Paths are byte strings relative to the dump's root.
 */
export const HOSTILE_FILES: readonly TreeFile[] = [
  { path: b('etc/passwd'), link: b('passwd', 0xff) },
  {
    path: b('etc/passwd', 0xff),
    content: b(`root:x:0:0:root:/root:/bin/sh\nevil${OSC_TITLE}:x:0:0::/h`, 0xff, ':/bin/sh\n'),
  },
  { path: b('etc/group'), content: b('root:x:0:\nwheel\u202e:x:10:evil\r\n') },
  { path: b('etc/os-release'), content: b(`PRETTY_NAME="Hostile${CLEAR}OS"\nID=evil\u009b\nVERSION_ID=1\n`) },
  {
    path: b('var/lib/dpkg/status.d/base'),
    content: b('Package: base-files\nVersion: 12\nArchitecture: all\n'),
  },
  {
    path: b('var/lib/dpkg/status.d/hidden', 0xff),
    content: b(`Package: hidden${ESC}[8m\nVersion: 1.0\u202e\nArchitecture: amd64\n`),
  },
  { path: b('f', 0xff), content: b('plain') },
  { path: b('f', 0xfe), content: b('setuid'), mode: 0o4755 },
  { path: b('g'), hardlink: b('f', 0xff) },
  { path: b(`title${OSC_TITLE}`), content: b('x') },
  { path: b(`clear${CLEAR}`), content: b('x') },
  { path: b('cr\rfake'), content: b('x') },
  { path: b('csi\u009b2J'), content: b('x') },
  { path: b('byte', 0x9b, '2J'), content: b('x') },
  { path: b('rlo\u202etxt.exe'), content: b('x') },
  { path: b('back\\e'), content: b('x') },
  { path: b('link'), link: b(`${ESC}[2Jtarget\u202e`) },
  { path: b('dir\u2066/inside'), content: b('x') },
];

/** Writes the files above under `root` (names from Buffers, so every byte is as given). */
export function writeHostileDump(root: string): void {
  writeTree(root, HOSTILE_FILES);
}

export function writeTree(root: string, files: readonly TreeFile[]): void {
  const rootBytes = Buffer.from(root);
  for (const file of files) {
    const path = Buffer.concat([rootBytes, b('/'), file.path]);
    const slash = path.lastIndexOf('/');
    mkdirSync(path.subarray(0, slash), { recursive: true });
    if (file.link) symlinkSync(file.link, path);
    else if (file.hardlink) linkSync(Buffer.concat([rootBytes, b('/'), file.hardlink]), path);
    else {
      writeFileSync(path, file.content ?? Buffer.alloc(0));
      if (file.mode !== undefined) chmodSync(path, file.mode);
      utimesSync(path, 1_700_000_000, 1_700_000_000);
    }
  }
}

/**
 * Python's view of a folder, the oracle for names: every path below `root` as os.walk gives it in bytes,
 * decoded with surrogateescape, and each symlink's target the same way.
 */
export function pythonListing(root: string): { path: string; target: string | null }[] {
  const program = [
    'import os, sys, json',
    'root = os.fsencode(sys.argv[1])',
    'out = []',
    'for folder, dirs, files in os.walk(root):',
    '    for name in dirs + files:',
    '        full = os.path.join(folder, name)',
    "        rel = os.path.relpath(full, root).decode('utf-8', 'surrogateescape')",
    "        target = os.readlink(full).decode('utf-8', 'surrogateescape') if os.path.islink(full) else None",
    "        out.append({'path': rel, 'target': target})",
    'print(json.dumps(out))',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', program, root], { encoding: 'utf8' }));
}
