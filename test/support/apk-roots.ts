import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface ApkPackage {
  readonly name: string;
  readonly version: string;
  /** Folder -> files in it, as F: and R: lines. */
  readonly folders: Record<string, string[]>;
}

function apkRoot(
  work: string,
  name: string,
  packages: ApkPackage[],
  files: Record<string, string>,
  links: Record<string, string>,
) {
  const root = join(work, name);
  const record = (p: ApkPackage) => [
    `P:${p.name}`,
    `V:${p.version}`,
    'A:x86_64',
    ...Object.entries(p.folders).flatMap(([folder, names]) => [`F:${folder}`, ...names.map((n) => `R:${n}`)]),
  ];
  const database = `${packages.map((p) => record(p).join('\n')).join('\n\n')}\n\n`;
  for (const [path, text] of Object.entries({ ...files, 'lib/apk/db/installed': database })) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  for (const [path, target] of Object.entries(links)) symlinkSync(target, join(root, path));
  return root;
}

const MUSL = { name: 'musl', folders: { lib: ['ld-musl-x86_64.so.1', 'libc.musl-x86_64.so.1'] } };
const BUSYBOX: ApkPackage = {
  name: 'busybox',
  version: '1.36.1-r29',
  folders: { bin: ['busybox', 'sh'], etc: ['securetty'] },
};

/**
 * Two Alpine-like roots under `work` whose apk databases name their files: from A to B musl is upgraded
 * (its loader changes), scanelf removed, zlib added, and busybox keeps its version while /etc/securetty changes.
 */
export function apkRoots(work: string): { a: string; b: string } {
  const a = apkRoot(
    work,
    'a',
    [
      { ...MUSL, version: '1.2.4-r2' },
      BUSYBOX,
      { name: 'scanelf', version: '1.3.7-r2', folders: { 'usr/bin': ['scanelf'] } },
    ],
    {
      'lib/ld-musl-x86_64.so.1': 'musl 1.2.4',
      'bin/busybox': 'busybox!',
      'etc/securetty': 'console\n',
      'etc/hostname': 'alpine\n',
      'usr/bin/scanelf': 'scanelf',
    },
    { 'lib/libc.musl-x86_64.so.1': 'ld-musl-x86_64.so.1', 'bin/sh': '/bin/busybox' },
  );
  const b = apkRoot(
    work,
    'b',
    [
      { ...MUSL, version: '1.2.5-r0' },
      BUSYBOX,
      { name: 'zlib', version: '1.3.1-r1', folders: { lib: ['libz.so.1'] } },
    ],
    {
      'lib/ld-musl-x86_64.so.1': 'musl 1.2.5 is longer',
      'lib/libz.so.1': 'zlib',
      'bin/busybox': 'busybox!',
      'etc/securetty': 'console\ntty1\n',
      'etc/hostname': 'alpine\n',
    },
    { 'lib/libc.musl-x86_64.so.1': 'ld-musl-x86_64.so.1', 'bin/sh': '/bin/busybox' },
  );
  return { a, b };
}
