import { link, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TarSubtree } from '../../src/extract/tar-subtree.js';

// GNU tar writes the archives and is the oracle: what it lists under `keep` in the original must be exactly
// what it lists in the filtered stream, and extracting that gives the same files.

let work: string;
let source: string;
const LONG = `keep/${'deep-folder-name/'.repeat(8)}a-file-whose-path-is-longer-than-one-hundred-bytes.txt`;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-tar-subtree-'));
  source = join(work, 'source');
  await mkdir(join(source, LONG, '..'), { recursive: true });
  await writeFile(join(source, LONG), 'long\n');
  await writeFile(join(source, 'keep/file'), 'x'.repeat(1500));
  await link(join(source, 'keep/file'), join(source, 'keep/hardlink'));
  await symlink(`/${'target/'.repeat(20)}end`, join(source, 'keep/long-symlink'));
  await execa('mkfifo', [join(source, 'keep/fifo')]);
  await writeFile(join(source, 'keep/empty'), '');
  // Siblings that must go, one of them sharing the name as a prefix.
  await mkdir(join(source, 'keep-not'));
  await writeFile(join(source, 'keep-not/file'), 'no');
  await mkdir(join(source, 'other'));
  await writeFile(join(source, 'other/big'), 'y'.repeat(100_000));
  await link(join(source, 'other/big'), join(source, 'other/big-link'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function listing(args: string[], input?: Buffer): Promise<string> {
  const { stdout } = await execa('tar', ['-tv', '--numeric-owner', ...args], input ? { input } : {});
  return stdout;
}

async function filtered(archive: Buffer, chunkSize: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < archive.length; offset += chunkSize) {
    chunks.push(archive.subarray(offset, offset + chunkSize));
  }
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), new TarSubtree('/keep'), async (stream: AsyncIterable<Buffer>) => {
    for await (const chunk of stream) out.push(chunk);
  });
  return Buffer.concat(out);
}

describe.each(['gnu', 'posix', 'ustar'])('TarSubtree on a GNU tar archive in %s format', (format) => {
  let archive: Buffer;
  beforeAll(async () => {
    const file = join(work, `${format}.tar`);
    // ustar cannot hold the long symlink target: leave it out of that format.
    const exclude = format === 'ustar' ? ['--exclude=keep/long-symlink'] : [];
    await execa('tar', [
      '-c',
      `--format=${format}`,
      '--sort=name',
      ...exclude,
      '-f',
      file,
      '-C',
      source,
      '.',
    ]);
    archive = await readFile(file);
  });

  it.each([1, 7, 512, 65536])(
    'keeps exactly the members below keep/, fed %i bytes at a time',
    async (chunkSize) => {
      const want = await listing(['-f', join(work, `${format}.tar`), './keep']);
      expect(want).toContain('deep-folder-name');
      expect(want).not.toContain('keep-not');
      expect(await listing([], await filtered(archive, chunkSize))).toBe(want);
    },
  );

  it('extracts to the same files', async () => {
    const out = join(work, `out-${format}`);
    await mkdir(out);
    await execa('tar', ['-x', '-C', out], { input: await filtered(archive, 4096) });
    const { stdout } = await execa(
      'diff',
      ['-r', '--no-dereference', join(source, 'keep'), join(out, 'keep')],
      {
        reject: false,
      },
    );
    // diff cannot compare FIFOs and says so; the listings above check their type.
    const differences = stdout
      .split('\n')
      .filter((line) => line && !/is a fifo while file .* is a fifo$/.test(line));
    expect(differences).toEqual(format === 'ustar' ? [`Only in ${join(source, 'keep')}: long-symlink`] : []);
  });
});

it('fails on a stream cut in the middle of a member', async () => {
  const file = join(work, 'cut.tar');
  await execa('tar', ['-c', '-f', file, '-C', source, 'keep/file']);
  const archive = await readFile(file);
  await expect(filtered(archive.subarray(0, 1000), 100)).rejects.toThrow(/ended in the middle of a member/);
});
