import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBytes } from '../../src/tar/byte-string.js';
import { type GoHeader, TarParser } from '../../src/tar/tar-reader.js';
import { buildGoReader, goRead } from './go-oracle.js';
import { NAMED_RECIPES, tarBytes, tarRecipe } from './tar-corpus.js';

// The differential test of our tar reader against Go's archive/tar itself (test/tar/go-reader/main.go),
// the reader every engine and umoci load layers with: the same entries, or both refuse.

const CORPUS = 4000;
let work: string;
let goReader: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-go-reader-'));
  goReader = await buildGoReader(work);
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

type Read = Record<string, unknown>;
const hex = (text: string) => encodeBytes(text).toString('hex');
const pairs = (map: ReadonlyMap<string, string>) =>
  [...map].map(([k, v]) => [hex(k), hex(v)]).sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1));

/** Our reader's view of a tar, in the Go program's terms. */
function ours(tar: Buffer): Read[] {
  const out: Read[] = [];
  const parser = new TarParser({
    entry(header: GoHeader) {
      const hash = createHash('sha256');
      return {
        update: (chunk) => hash.update(chunk),
        end: () => out.push(asRead(header, hash.digest('hex'))),
      };
    },
  });
  try {
    for (let i = 0; i < tar.length && !parser.ended; i += 700) parser.write(tar.subarray(i, i + 700));
    parser.end();
    out.push({ end: '' });
  } catch (error) {
    out.push({ end: (error as Error).message });
  }
  return out;
}

function asRead(header: GoHeader, data: string): Read {
  return {
    typeflag: header.typeflag,
    name: hex(header.name),
    linkname: hex(header.linkname),
    size: String(header.size),
    mode: String(header.mode),
    uid: String(header.uid),
    gid: String(header.gid),
    mtime: String(header.mtime.seconds),
    nanos: header.mtime.nanos,
    devmajor: String(header.devmajor),
    devminor: String(header.devminor),
    pax: pairs(header.pax),
    xattrs: pairs(header.xattrs),
    data,
  };
}

/**
 * Any error as just "refused" (the words differ). A global header only as its type: engines ignore it, and
 * what Go keeps of one with a bad record depends on its map order.
 */
function comparable(reads: Read[]): Read[] {
  return reads.map((read) => {
    if ('end' in read) return { end: read.end === '' ? 'clean' : 'refused' };
    if (read.typeflag === 'g') return { typeflag: 'g' };
    return read;
  });
}

async function theirs(tars: readonly Buffer[]): Promise<Read[][]> {
  return goRead(goReader, tars);
}

describe.sequential("the tar reader agrees with Go's archive/tar", () => {
  it(`on ${CORPUS} generated tars of header variants`, async () => {
    const recipes = fc.sample(tarRecipe, { numRuns: CORPUS, seed: 20261201 });
    const tars = recipes.map(tarBytes);
    const go = await theirs(tars);
    expect(go).toHaveLength(tars.length);
    const counts = { tars: tars.length, entries: 0, refusedByBoth: 0 };
    for (const [i, tar] of tars.entries()) {
      const read = ours(tar);
      const mine = comparable(read);
      const expected = comparable(go[i] as Read[]);
      const why = `tar ${i}: ours ended ${JSON.stringify(read.at(-1))}, Go ${JSON.stringify(go[i]?.at(-1))}`;
      expect(mine, why).toEqual(expected);
      counts.entries += expected.length - 1;
      if (expected.at(-1)?.end === 'refused') counts.refusedByBoth++;
    }
    console.log(`go differential corpus: ${JSON.stringify(counts)}`);
    // Enough of the corpus is accepted for the comparison to mean something.
    expect(counts.refusedByBoth).toBeLessThan(tars.length * 0.7);
  });

  it.each(Object.keys(NAMED_RECIPES))('on %s', async (name) => {
    const tar = tarBytes(NAMED_RECIPES[name] as (typeof NAMED_RECIPES)[string]);
    const [go] = await theirs([tar]);
    expect(comparable(ours(tar))).toEqual(comparable(go as Read[]));
  });

  it("reads the issue's old-GNU member as etc/passwd, and refuses one with a bad checksum", () => {
    const names = (recipe: string) =>
      ours(tarBytes(NAMED_RECIPES[recipe] as (typeof NAMED_RECIPES)[string])).map((read) => read.name);
    expect(names('old-gnu ctime base-256 2^53')).toEqual([
      Buffer.from('etc/passwd').toString('hex'),
      undefined,
    ]);
    expect(names('old-gnu ctime base-256 2^63')).toEqual([
      Buffer.from('00000000000/etc/passwd').toString('hex'),
      undefined,
    ]);
    expect(names('old-gnu prefix not ASCII')).toEqual([Buffer.from('passwd').toString('hex'), undefined]);
    const bad = tarBytes({ ...(NAMED_RECIPES['ustar prefix'] as (typeof NAMED_RECIPES)[string]) });
    bad.writeUInt8((bad[0] as number) ^ 1, 0);
    expect(ours(bad)).toEqual([
      { end: expect.stringMatching(/^invalid tar stream: a header has a bad checksum/) },
    ]);
  });
});
