import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBytes, encodeBytes } from '../../src/tar/byte-string.js';
import { dataPadding, encodeMember } from '../../src/tar/member-header.js';
import { engineOwner, type TarHeader, toMember } from '../../src/tar/tar-member.js';
import { type GoHeader, TarParser } from '../../src/tar/tar-reader.js';

// The headers the fast method writes for GNU tar: read back by our reader (as Go reads), they say what the
// approved member said, and GNU tar itself reads the same names and xattr names from them.

const nameBytes = fc
  .array(
    fc.oneof(
      fc.constantFrom(0x61, 0x2e, 0x25, 0x3d, 0x0a),
      fc.integer({ min: 1, max: 255 }).filter((b) => b !== 0x2f),
    ),
    {
      minLength: 1,
      maxLength: 60,
    },
  )
  .map((bytes) => decodeBytes(Buffer.from(bytes)))
  .filter((part) => part !== '.' && part !== '..');
// No `%` (GNU tar, the reader of these headers, decodes %-escapes there: the next test) and no `=` (Go cuts a
// PAX key there, so no xattr name has one).
const xattrName = nameBytes.filter((name) => !/[%=]/.test(name));
const path = fc.array(nameBytes, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
// Never empty: Go drops an xattr record with an empty value, so no member has one.
const value = fc.uint8Array({ minLength: 1, maxLength: 20 }).map((bytes) => decodeBytes(Buffer.from(bytes)));

const header: fc.Arbitrary<TarHeader> = fc
  .record({
    name: path,
    linkname: path,
    kind: fc.constantFrom('file' as const, 'dir' as const, 'symlink' as const, 'fifo' as const),
    mode: fc.integer({ min: 0, max: 0o7777 }),
    uid: fc.integer({ min: 0, max: 2 ** 32 - 2 }),
    gid: fc.integer({ min: 0, max: 2 ** 32 - 2 }),
    size: fc.integer({ min: 0, max: 3000 }),
    mtime: fc.integer({ min: 0, max: 2 ** 34 }),
    xattrs: fc.dictionary(
      fc.tuple(fc.constantFrom('user.', 'trusted.', 'security.'), xattrName).map(([ns, n]) => ns + n),
      value,
      { maxKeys: 3 },
    ),
  })
  .map((fields) => ({
    ...fields,
    linkname: fields.kind === 'symlink' ? fields.linkname : '',
    size: fields.kind === 'file' ? fields.size : 0,
    devmajor: 0,
    devminor: 0,
    pax: {},
  }));

function tarOf(headers: readonly TarHeader[]): Buffer {
  const parts: Buffer[] = [];
  for (const h of headers) parts.push(...encodeMember(h), Buffer.alloc(h.size, 0x62), dataPadding(h.size));
  return Buffer.concat([...parts, Buffer.alloc(1024)]);
}

function readBack(tar: Buffer): TarHeader[] {
  const read: GoHeader[] = [];
  const parser = new TarParser({ entry: (entry) => void read.push(entry) });
  parser.write(tar);
  parser.end();
  return read.map(toMember);
}

describe('the headers written for GNU tar', () => {
  it('read back as the member they were written from', () => {
    fc.assert(
      fc.property(fc.array(header, { minLength: 1, maxLength: 4 }), (headers) => {
        const back = readBack(tarOf(headers));
        expect(back.map(({ pax: _pax, ...rest }) => rest)).toEqual(
          headers.map(({ pax: _pax, ...rest }) => rest),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('give GNU tar the same names, contents and xattrs (its %-escapes in xattr names included)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dc-member-header-'));
    try {
      const files = fc
        .sample(fc.tuple(nameBytes, fc.stringMatching(/^[a-z%]{1,8}$/), value), { numRuns: 40, seed: 11 })
        .map(
          ([name, xattr, content]): TarHeader => ({
            name,
            linkname: '',
            kind: 'file',
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: encodeBytes(content).length,
            mtime: 1700000000,
            devmajor: 0,
            devminor: 0,
            pax: {},
            xattrs: { [`user.${xattr}`]: content },
          }),
        );
      const unique = [...new Map(files.map((h) => [h.name, h])).values()];
      const parts: Buffer[] = [];
      for (const h of unique)
        parts.push(
          ...encodeMember(h),
          encodeBytes(h.xattrs[Object.keys(h.xattrs)[0] as string] as string),
          dataPadding(h.size),
        );
      await writeFile(join(dir, 'members.tar'), Buffer.concat([...parts, Buffer.alloc(1024)]));
      await mkdir(join(dir, 'out'));
      await execa(
        'tar',
        [
          '-x',
          '-p',
          '--xattrs',
          '--xattrs-include=*',
          '-C',
          join(dir, 'out'),
          '-f',
          join(dir, 'members.tar'),
        ],
        { env: { LC_ALL: 'C' } },
      );
      const names = (await readdir(join(dir, 'out'), { encoding: 'buffer' }))
        .map((name) => decodeBytes(name))
        .sort();
      expect(names).toEqual(unique.map((h) => h.name).sort());
      for (const h of unique.slice(0, 10)) {
        const file = Buffer.concat([Buffer.from(join(dir, 'out', '/')), encodeBytes(h.name)]);
        const [xattr] = Object.keys(h.xattrs) as [string];
        // Python's os.getxattr takes names as bytes (given here in hex), so no name is re-encoded on the way.
        const got = await execa(
          'python3',
          [
            '-c',
            'import os, sys; sys.stdout.buffer.write(os.getxattr(bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2])))',
            file.toString('hex'),
            encodeBytes(xattr).toString('hex'),
          ],
          { encoding: 'buffer' },
        );
        expect(decodeBytes(Buffer.from(got.stdout))).toBe(h.xattrs[xattr]);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('owners as the engine leaves them', () => {
  it('keep the low 32 bits, and (uid_t)-1 means root (lchown leaves it unchanged)', () => {
    expect(engineOwner(4294967295n)).toBe(0);
    expect(engineOwner(4294968296n)).toBe(1000);
    expect(engineOwner(-5n)).toBe(4294967291);
    expect(engineOwner(-1n)).toBe(0);
    expect(engineOwner(2n ** 32n)).toBe(0);
    expect(engineOwner(65532n)).toBe(65532);
  });
});
