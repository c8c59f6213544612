import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestEntry } from '../../src/manifest.js';
import { decodeBytes } from '../../src/tar/byte-string.js';
import { buildGoReader, type GoRead, goRead } from '../tar/go-oracle.js';
import { type Extension, type Member, octal, plain, tarBytes } from '../tar/tar-corpus.js';
import { type GuardedRun, guardedRun, METHODS, type Method } from './guarded-run.js';
import { loadHostileImage, removeHostileImages } from './hostile-image.js';

// The nastiest header variants end to end: one layer of them, `docker load`ed into the engine, dumped with
// both methods. What Go's archive/tar reads from the layer (test/tar/go-reader) is the oracle for the
// manifest and the dump; owners are what the engine's lchown leaves (measured), xattrs as the kernel has them.

const label = randomUUID();
let work: string;
let go: GoRead[];
const runs = new Map<Method, GuardedRun>();

const PASSWD = 'root:x:0:0:root:/root:/sbin/nologin\nevil:x:0:0::/:/bin/sh\n';
const pax = (records: Record<string, string | Buffer>): Extension => ({
  typeflag: 'x',
  records: Object.entries(records).map(([key, value]) => ({
    key,
    value: typeof value === 'string' ? Buffer.from(value, 'latin1') : value,
    length: 'right' as const,
  })),
  longName: Buffer.alloc(0),
});
const member = (name: string | Buffer, extra: Partial<Member> = {}): Member => {
  const content = extra.dataLength ?? 5;
  return {
    ...plain,
    name: typeof name === 'string' ? Buffer.from(name, 'latin1') : name,
    magic: 'ustar',
    prefix: Buffer.alloc(0),
    gnuTimes: ['nul', 'nul'],
    size: octal(BigInt(content)),
    dataLength: content,
    ...extra,
  };
};
const dir = (name: string): Member =>
  member(name, {
    typeflag: '5',
    size: octal(0n),
    dataLength: 0,
    numbers: { ...plain.numbers, mode: octal(0o755n) },
  });

const MEMBERS: Member[] = [
  dir('etc'),
  // The old-GNU header: ctime base-256 of 2^53, which Go parses, so the name has no prefix.
  member('etc/passwd', {
    magic: 'gnu',
    gnuTimes: [octal(0n), { kind: 'base256', value: 2n ** 53n }],
    size: octal(BigInt(PASSWD.length)),
    dataLength: PASSWD.length,
  }),
  member('uid-max', { extensions: [pax({ uid: '4294967295', gid: '4294967295' })] }),
  member('uid-2p32-1000', { extensions: [pax({ uid: '4294968296', gid: '4294968297' })] }),
  member('uid-negative', { extensions: [pax({ uid: '-5', gid: '-6' })] }),
  // A GNU long name wins over a PAX path in Go.
  member('header-name', {
    extensions: [
      pax({ path: 'pax-loses' }),
      { typeflag: 'L', records: [], longName: Buffer.from('long-wins') },
    ],
  }),
  // A global header: its own entry to Go, which engines ignore (GNU tar would name later members by it).
  member('after-global', {
    extensions: [
      {
        typeflag: 'g',
        records: [{ key: 'path', value: Buffer.from('global-path'), length: 'right' }],
        longName: Buffer.alloc(0),
      },
    ],
  }),
  dir('pre'),
  member('fix', { prefix: Buffer.from('pre') }),
  // Two names that differ in one invalid byte, one setuid, and a hardlink to the other.
  member(Buffer.from([0x66, 0xff])),
  member(Buffer.from([0x66, 0xfe]), { numbers: { ...plain.numbers, mode: octal(0o4755n) } }),
  member('g', { typeflag: '1', linkname: Buffer.from([0x66, 0xff]), size: octal(0n), dataLength: 0 }),
  member('xattrs', {
    extensions: [
      pax({
        'SCHILY.xattr.user.a': Buffer.from([0x76, 0xff, 0x00, 0x41]),
        'SCHILY.xattr.trusted.t': 'tv',
        'SCHILY.xattr.security.s': 'sv',
        'SCHILY.xattr.user.p%25q': 'percent',
        'SCHILY.xattr.user.\xff': 'name not UTF-8',
        'LIBARCHIVE.xattr.user.lib': Buffer.from('libarchive').toString('base64'),
      }),
    ],
  }),
  // The kernel refuses user.* attributes on a symlink: the engine skips it (moby ignores EPERM), so does GNU tar.
  member('link', {
    typeflag: '2',
    linkname: Buffer.from('etc/passwd'),
    size: octal(0n),
    dataLength: 0,
    numbers: { ...plain.numbers, mode: octal(0o777n) },
    extensions: [pax({ 'SCHILY.xattr.user.s': 'on a symlink' })],
  }),
  member('base256', {
    numbers: {
      ...plain.numbers,
      uid: { kind: 'base256', value: 1234n },
      mtime: { kind: 'base256', value: 1700000001n },
    },
  }),
  member(Buffer.from('signed-sum-\xe9\xff', 'latin1'), { checksum: 'signed' }),
];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-hostile-headers-'));
  const layer = tarBytes({ members: MEMBERS, ending: 'two-zeros' });
  const file = join(work, 'layer.tar');
  await writeFile(file, layer);
  go = (await goRead(await buildGoReader(work), [layer]))[0] as GoRead[];
  const load = await loadHostileImage('headers', [{ file }], { dir: work, label });
  if (!load.loaded) throw new Error(`docker load refused the image: ${load.refusal}`);
  for (const method of METHODS) {
    const runDir = join(work, method);
    await mkdir(runDir);
    runs.set(method, await guardedRun(load.tag, method, runDir));
  }
});

afterAll(async () => {
  await removeHostileImages(label);
  await rm(work, { recursive: true, force: true });
});

const fromHex = (hex: unknown) => decodeBytes(Buffer.from(hex as string, 'hex'));
const pathOf = (hex: unknown) =>
  fromHex(hex)
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');
const byPath = (entries: readonly ManifestEntry[]) => new Map(entries.map((entry) => [entry.path, entry]));

describe('header variants, loaded into the engine and dumped', () => {
  it('are read by Go without error, as the engine loaded them', () => {
    expect(go.at(-1)).toEqual({ end: '' });
    const names = go
      .filter((read) => 'typeflag' in read && read.typeflag !== 'g')
      .map((read) => pathOf(read.name));
    expect(names).toContain('etc/passwd');
    expect(names).not.toContain('00000000000/etc/passwd');
  });

  for (const method of METHODS) {
    describe(method, () => {
      const run = () => runs.get(method) as GuardedRun;

      it('succeeds, touching nothing outside the output', () => {
        expect(run().exitCode, run().stderr).toBe(0);
        // As root every attribute can be set but user.* on a symlink, which the kernel refuses: one warning.
        // Engine 20.10's archive carries no xattr of a symlink, so the article method has nothing to warn of.
        expect(run().stderr).toBe(
          method === 'fast'
            ? `warning: Could not set 1 extended attribute: Cannot set 'user.s' extended attribute for file 'link': Operation not permitted; the manifest lists them.`
            : '',
        );
        expect(run().changedCanaries).toEqual([]);
        expect(run().leftovers).toEqual([]);
      });

      it("lists exactly Go's entries, each once, by its exact name, with Go's types, sizes, contents, modes and targets", () => {
        const entries = run().manifest?.entries ?? [];
        const members = go.filter((read) => 'typeflag' in read && read.typeflag !== 'g');
        expect(entries.map((entry) => entry.path).sort()).toEqual(
          members.map((read) => pathOf(read.name)).sort(),
        );
        expect(new Set(entries.map((entry) => entry.path)).size).toBe(entries.length);
        const manifest = byPath(entries);
        for (const read of members) {
          const entry = manifest.get(pathOf(read.name));
          if (read.typeflag === '2') {
            expect(entry).toMatchObject({ type: 'symlink', target: fromHex(read.linkname) });
            continue;
          }
          if (read.typeflag === '1') {
            expect(entry).toMatchObject({ type: 'hardlink', target: pathOf(read.linkname) });
            continue;
          }
          expect(entry?.type).toBe(read.typeflag === '5' ? 'dir' : 'file');
          expect(entry?.mode).toBe(Number(read.mode) & 0o7777);
          expect(entry?.mtime).toBe(Number(read.mtime));
          if (entry?.type === 'file') {
            expect(entry.size).toBe(Number(read.size));
            expect(entry.sha256).toBe(read.data);
          }
        }
        // The old-GNU member is etc/passwd with its extra uid-0 user, not a file below 00000000000/.
        expect(manifest.get('etc/passwd')?.size).toBe(PASSWD.length);
        expect(manifest.get('long-wins')).toBeDefined();
        expect(manifest.get('f\udcfe')?.mode).toBe(0o4755);
        expect(manifest.get('f\udcff')).toMatchObject({ type: 'file', mode: 0o644 });
        expect(manifest.get('g')).toMatchObject({ type: 'hardlink', target: 'f\udcff' });
      });

      it('gives each owner as the engine leaves it: the low 32 bits, 4294967295 as root', () => {
        const manifest = byPath(run().manifest?.entries ?? []);
        const owners = (path: string) => [manifest.get(path)?.uid, manifest.get(path)?.gid];
        expect(owners('uid-max')).toEqual([0, 0]);
        expect(owners('uid-2p32-1000')).toEqual([1000, 1001]);
        expect(owners('uid-negative')).toEqual([4294967291, 4294967290]);
        expect(owners('base256')).toEqual([1234, 0]);
        const disk = new Map((run().tree ?? []).map((entry) => [decodeBytes(entry.path), entry]));
        for (const path of ['uid-max', 'uid-2p32-1000', 'uid-negative', 'base256']) {
          expect([disk.get(path)?.uid, disk.get(path)?.gid]).toEqual(owners(path));
        }
      });
    });
  }

  it('fast: keeps every xattr Go reads (SCHILY.xattr.*, any namespace, exact bytes), in the manifest and on disk', async () => {
    const read = go.find((entry) => pathOf(entry.name) === 'xattrs') as GoRead;
    const expected = Object.fromEntries(
      (read.xattrs as [string, string][]).map(([name, value]) => [fromHex(name), fromHex(value)]),
    );
    expect(Object.keys(expected).sort()).toEqual([
      'security.s',
      'trusted.t',
      'user.a',
      'user.p%25q',
      'user.\udcff',
    ]);
    const fast = runs.get('fast') as GuardedRun;
    expect(byPath(fast.manifest?.entries ?? []).get('xattrs')?.xattrs).toEqual(expected);
    const { stdout } = await execa('getfattr', [
      '-d',
      '-m',
      '-',
      '-e',
      'hex',
      '--absolute-names',
      join(fast.output, 'xattrs'),
    ]);
    const onDisk = Object.fromEntries(
      stdout
        .split('\n')
        .filter((line) => line.includes('=0x'))
        .map((line) => {
          const [name, value] = line.split('=0x') as [string, string];
          return [name, decodeBytes(Buffer.from(value, 'hex'))];
        }),
    );
    // getfattr shows a name that is not UTF-8 as an escape; compare the UTF-8 ones, count them all.
    expect(Object.keys(onDisk)).toHaveLength(5);
    for (const name of ['security.s', 'trusted.t', 'user.a', 'user.p%25q'])
      expect(onDisk[name]).toBe(expected[name]);
  });

  it('article: has only the xattrs Engine 20.10 archives carry (security.capability), so none here', () => {
    const article = runs.get('article') as GuardedRun;
    expect(byPath(article.manifest?.entries ?? []).get('xattrs')?.xattrs).toBeUndefined();
  });
});
