import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { scanFolder } from '../../src/inspect/scan-folder.js';
import type { Manifest } from '../../src/manifest.js';
import { dumpImage } from './dumps.js';

const TYPES: Record<string, string> = { f: 'file', d: 'dir', l: 'symlink', p: 'fifo', c: 'char', b: 'block' };
const isRoot = process.getuid?.() === 0;
let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dc-scan-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** What find(1) says of every entry below root: the oracle for the scan. */
function findEntries(root: string) {
  const out = execFileSync(
    'find',
    [root, '-mindepth', '1', '-printf', '%P\\0%y\\0%m\\0%U\\0%G\\0%s\\0%l\\0%i\\0%n\\0'],
    {
      encoding: 'utf8',
    },
  );
  const fields = out.split('\0');
  const entries = new Map<
    string,
    {
      type: string;
      mode: number;
      uid: number;
      gid: number;
      size: number;
      target: string;
      inode: string;
      links: number;
    }
  >();
  for (let i = 0; i + 9 <= fields.length; i += 9) {
    const [path, type, mode, uid, gid, size, target, inode, links] = fields.slice(i, i + 9) as string[];
    entries.set(path as string, {
      type: TYPES[type as string] ?? (type as string),
      mode: Number.parseInt(mode as string, 8),
      uid: Number(uid),
      gid: Number(gid),
      size: Number(size),
      target: target as string,
      inode: inode as string,
      links: Number(links),
    });
  }
  return entries;
}

describe('scanFolder', () => {
  it('lists every entry as find sees it: type, mode bits, owner, size, link target; one file per inode', async () => {
    const root = join(work, 'kinds');
    mkdirSync(join(root, 'a/b'), { recursive: true });
    mkdirSync(join(root, 'a-c'));
    writeFileSync(join(root, 'a/b/file'), 'hello\n');
    writeFileSync(join(root, 'a-c/first'), 'same inode\n');
    linkSync(join(root, 'a-c/first'), join(root, 'a/b/second'));
    symlinkSync('/etc/passwd', join(root, 'a/absolute'));
    symlinkSync('../no/such', join(root, 'a/dangling'));
    writeFileSync(join(root, 'suid'), '#!/bin/sh\n');
    chmodSync(join(root, 'suid'), 0o4755);
    mkdirSync(join(root, 'tmp'));
    chmodSync(join(root, 'tmp'), 0o1777);
    execFileSync('mkfifo', [join(root, 'fifo')]);
    if (isRoot) execFileSync('mknod', [join(root, 'null'), 'c', '1', '3']);

    const { entries, skipped } = await scanFolder(root);
    const expected = findEntries(root);
    expect(skipped).toEqual([]);
    expect(entries.map((entry) => entry.path)).toEqual([...expected.keys()].sort());
    for (const entry of entries) {
      const want = expected.get(entry.path);
      if (entry.type === 'hardlink') {
        // The engine's archive walks folders in name order: a/b/second comes before a-c/first.
        expect(want?.inode).toBe(expected.get(entry.target as string)?.inode);
        continue;
      }
      expect({
        path: entry.path,
        type: entry.type,
        mode: entry.mode,
        uid: entry.uid,
        gid: entry.gid,
      }).toEqual({
        path: entry.path,
        type: want?.type,
        mode: want?.mode,
        uid: want?.uid,
        gid: want?.gid,
      });
      if (entry.type === 'file') expect(entry.size).toBe(want?.size);
      if (entry.type === 'symlink') expect(entry.target).toBe(want?.target);
    }
    const byPath = new Map(entries.map((entry) => [entry.path, entry]));
    expect(byPath.get('a/b/second')).toMatchObject({ type: 'file', size: 11 });
    expect(byPath.get('a-c/first')).toMatchObject({
      type: 'hardlink',
      target: 'a/b/second',
      size: 0,
      diskBytes: 0,
    });
    if (isRoot) expect(byPath.get('null')).toMatchObject({ type: 'char', devmajor: 1, devminor: 3 });
  });

  it('measures on-disk bytes as du does, each inode once', async () => {
    const root = join(work, 'kinds');
    const { entries } = await scanFolder(root);
    const disk = entries.reduce((sum, entry) => sum + (entry.diskBytes ?? 0), 0);
    const du = execFileSync('du', ['-s', '-B1', root], { encoding: 'utf8' });
    const rootBlocks = execFileSync('stat', ['-c', '%b*%B', root], { encoding: 'utf8' })
      .trim()
      .split('*')
      .map(Number);
    expect(disk + (rootBlocks[0] as number) * (rootBlocks[1] as number)).toBe(Number(du.split('\t')[0]));
  });

  it('hashes file contents only when asked', async () => {
    const root = join(work, 'kinds');
    const plain = await scanFolder(root);
    expect(plain.entries.some((entry) => entry.sha256 !== undefined)).toBe(false);
    const hashed = await scanFolder(root, { hash: true });
    const file = hashed.entries.find((entry) => entry.path === 'a/b/file');
    const sha = execFileSync('sha256sum', [join(root, 'a/b/file')], { encoding: 'utf8' }).split(' ')[0];
    expect(file?.sha256).toBe(sha);
  });

  it('reads paths longer than PATH_MAX with the folder before them (an image path may be PATH_MAX alone)', async () => {
    const root = join(work, 'long');
    mkdirSync(root);
    // GNU rm walks down by descriptors; Node's rm cannot name the deepest entries.
    onTestFinished(() => void execFileSync('rm', ['-rf', root]));
    // 16 folders of 254 bytes: 4,080 bytes below root, made by a shell that walks down one at a time.
    const name = 'd'.repeat(254);
    execFileSync('bash', [
      '-c',
      'cd "$1" && for i in $(seq 16); do mkdir "$2" && cd "$2"; done && printf deep > file && ln -s file link',
      '-',
      root,
      name,
    ]);
    const deep = Array.from({ length: 16 }, () => name).join('/');
    const { entries } = await scanFolder(root, { hash: true });
    expect(entries.map((entry) => entry.path)).toEqual([
      ...Array.from({ length: 16 }, (_, i) => Array.from({ length: i + 1 }, () => name).join('/')),
      `${deep}/file`,
      `${deep}/link`,
    ]);
    const file = entries.find((entry) => entry.path === `${deep}/file`);
    const sha = execFileSync('bash', ['-c', 'cd "$1" && cd "$2" && sha256sum file', '-', root, deep], {
      encoding: 'utf8',
    }).split(' ')[0];
    expect(file).toMatchObject({ type: 'file', size: 4, sha256: sha });
    expect(entries.find((entry) => entry.path === `${deep}/link`)).toMatchObject({
      type: 'symlink',
      target: 'file',
    });
  });

  it.runIf(isRoot)(
    'reads a root-made dump of the edge image back as its manifest says, hashes and owners included',
    async () => {
      const { folder, manifest } = await dumpImage(TEST_IMAGES.edge, work, 'edge');
      const { entries } = await scanFolder(folder, { hash: true });
      const strip = (list: Manifest['entries']) =>
        list.map(({ path, type, mode, uid, gid, size, target, sha256, devmajor, devminor }) => ({
          path,
          type,
          mode,
          uid,
          gid,
          size,
          target,
          sha256,
          devmajor,
          devminor,
        }));
      expect(strip(entries)).toEqual(strip(manifest.entries));
    },
  );
});
