import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutputError } from '../../src/errors.js';
import { writeArchive } from '../../src/extract/write-archive.js';

// The engine dying mid-copy, as writeArchive sees it: the archive stream fails in the middle of an entry.
// (test/faults/engine-death.test.ts kills a real engine; this pins the same fault at every cut.)

let work: string;
let archive: Buffer;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-broken-archive-'));
  const pack = tar.pack();
  pack.entry({ name: 'top/', type: 'directory', mode: 0o755 });
  pack.entry({ name: 'top/small', mode: 0o644 }, 'small\n');
  pack.entry({ name: 'top/big', mode: 0o644 }, Buffer.alloc(256 * 1024, 7));
  pack.finalize();
  const chunks: Buffer[] = [];
  await pipeline(pack as unknown as Readable, async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) chunks.push(chunk);
  });
  archive = Buffer.concat(chunks);
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** The archive's first `bytes`, then the error a reset connection gives. */
function cutAt(bytes: number): Readable {
  return Readable.from(
    (async function* () {
      yield archive.subarray(0, bytes);
      await new Promise((resolve) => setImmediate(resolve));
      throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    })(),
  );
}

describe('an archive stream that breaks', () => {
  it.each([
    ['inside a header', 100],
    ['inside a small entry', 512 + 512 + 3],
    ['inside a big entry', 512 * 6 + 100_000],
  ])('%s fails with one clear error, and nothing crashes', async (_where, bytes) => {
    const dir = await mkdtemp(join(work, 'out-'));
    const written = writeArchive(cutAt(bytes), dir, { stripComponents: 1 });
    await expect(written).rejects.toThrow(OutputError);
    await expect(written).rejects.toThrow(
      /^Reading the image archive failed: read ECONNRESET; .*docker info/,
    );
    expect(await readdir(dir)).not.toContain('big-after-the-cut');
  });
});
