import { createHash, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GuardedRun, guardedRun, METHODS, type Method } from './guarded-run.js';
import {
  type HostileLayer,
  type LoadOutcome,
  loadHostileImage,
  removeHostileImages,
} from './hostile-image.js';
import { KNOWN_FAILURES } from './known-failures.js';
import type { RawEntry } from './raw-tar.js';

// The heavy hostile images, in a file of their own so they can be run apart (npx vitest run
// test/security/hostile-heavy.test.ts): deep nesting, 100,000 empty files, a 4 GiB sparse file. Each is
// dumped with every method at once, under /usr/bin/time, beside a canary folder.

const MiB = 1024;
const GiB = 1024 ** 3;
const SPARSE_SIZE = 4 * GiB;
const FILE_COUNT = 100_000;

interface HeavyCase {
  readonly name: string;
  readonly layers: (dir: string) => Promise<readonly HostileLayer[]>;
  readonly refusedAtLoad?: RegExp;
  /** Peak memory of one CLI run, in KiB: far below what holding the data or one object per byte would take. */
  readonly maxRssKiB?: number;
  readonly refusedBy?: Partial<Readonly<Record<Method, RegExp>>>;
  readonly verify?: (run: GuardedRun) => Promise<void>;
}

function* nested(depth: number): Generator<RawEntry> {
  let path = '';
  for (let level = 0; level < depth; level++) {
    path = path ? `${path}/d` : 'd';
    yield { name: path, type: 'dir' };
  }
  yield { name: `${path}/bottom`, type: 'file', content: Buffer.from('bottom\n') };
}

function* emptyFiles(): Generator<RawEntry> {
  yield { name: 'many', type: 'dir' };
  for (let i = 0; i < FILE_COUNT; i++) yield { name: `many/${i}`, type: 'file' };
}

/** A 4 GiB file that is all hole but for its first and last bytes, archived by GNU tar as a PAX sparse member. */
async function sparseLayer(dir: string): Promise<readonly HostileLayer[]> {
  const root = join(dir, 'sparse-root');
  await mkdir(root);
  const handle = await open(join(root, 'sparse'), 'w');
  try {
    await handle.write('head', 0);
    await handle.write('tail', SPARSE_SIZE - 4);
  } finally {
    await handle.close();
  }
  const file = join(dir, 'sparse-layer.tar');
  await execa('tar', [
    '--sparse',
    '--format=posix',
    '--numeric-owner',
    '--owner=0',
    '--group=0',
    '--mtime=@1700000000',
    '-C',
    root,
    '-cf',
    file,
    'sparse',
  ]);
  await rm(root, { recursive: true });
  return [{ file }];
}

function sparseSha256(): string {
  const hash = createHash('sha256').update('head');
  const zeros = Buffer.alloc(64 * 1024 * 1024);
  for (let left = SPARSE_SIZE - 8; left > 0; left -= zeros.length) {
    hash.update(left >= zeros.length ? zeros : zeros.subarray(0, left));
  }
  return hash.update('tail').digest('hex');
}

const HEAVY_CASES: readonly HeavyCase[] = [
  {
    name: 'nesting-2000',
    layers: async () => [[...nested(2000)]],
    // 2,000 levels are 4,000 bytes of path: past PATH_MAX once under the engine's layer folder.
    refusedAtLoad: /file name too long/,
  },
  {
    name: 'nesting-1900',
    layers: async () => [[...nested(1900)]],
    maxRssKiB: 300 * MiB,
    verify: async (run) => {
      expect(run.manifest?.entries.filter((entry) => entry.type === 'dir')).toHaveLength(1900);
      const bottom = `${'d/'.repeat(1900)}bottom`;
      expect(run.manifest?.entries.find((entry) => entry.path === bottom)).toMatchObject({ type: 'file' });
      expect(run.tree?.some((entry) => entry.path.toString() === bottom)).toBe(true);
    },
  },
  {
    name: 'files-100k',
    layers: async () => [[...emptyFiles()]],
    // The manifest holds one entry per file (~40 MB for 100,000) and V8 collects lazily; holding contents
    // or one object per byte would take far more.
    maxRssKiB: 512 * MiB,
    verify: async (run) => {
      expect(run.manifest?.entries).toHaveLength(FILE_COUNT + 1);
      expect(await readdir(join(run.output, 'many'))).toHaveLength(FILE_COUNT);
    },
  },
  {
    name: 'sparse-4gib',
    layers: sparseLayer,
    maxRssKiB: 300 * MiB,
    // The engine writes the holes out at load, then cannot reassemble the layer it saved (tar-split).
    refusedBy: { fast: /^error: docker save of sha256:[0-9a-f]{64} failed: could not verify layer data/ },
    verify: async (run) => {
      const entry = run.manifest?.entries.find((e) => e.path === 'sparse');
      expect(entry).toMatchObject({ type: 'file', size: SPARSE_SIZE, sha256: sparseSha256() });
      expect((await stat(join(run.output, 'sparse'))).size).toBe(SPARSE_SIZE);
    },
  },
];

const imageLabel = randomUUID();
let work: string;
const results = new Map<string, { load: LoadOutcome; runs: Map<Method, GuardedRun> }>();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-heavy-'));
  await Promise.all(
    HEAVY_CASES.map(async (heavy) => {
      const dir = join(work, heavy.name);
      await mkdir(dir);
      const load = await loadHostileImage(heavy.name, await heavy.layers(dir), { dir, label: imageLabel });
      const runs = new Map<Method, GuardedRun>();
      if (load.loaded) {
        await Promise.all(
          METHODS.map(async (method) => {
            await mkdir(join(dir, method));
            runs.set(method, await guardedRun(load.tag, method, join(dir, method)));
          }),
        );
      }
      // Gigabytes: gone as soon as they are checked.
      results.set(heavy.name, { load, runs });
    }),
  );
});

afterAll(async () => {
  // The peaks, for the record: a bound that holds by a wide margin says less than the number.
  for (const [name, { runs }] of results) {
    for (const [method, run] of runs) {
      console.info(`${name} ${method}: exit ${run.exitCode}, peak ${Math.round(run.maxRssKiB / MiB)} MiB`);
    }
  }
  await removeHostileImages(imageLabel);
  await rm(work, { recursive: true, force: true });
});

describe.each(HEAVY_CASES)('$name', (heavy) => {
  const result = () => results.get(heavy.name) as { load: LoadOutcome; runs: Map<Method, GuardedRun> };

  if (heavy.refusedAtLoad) {
    it('is refused by docker load', () => {
      expect(result().load).toMatchObject({
        loaded: false,
        refusal: expect.stringMatching(heavy.refusedAtLoad as RegExp),
      });
    });
    return;
  }

  for (const method of METHODS) {
    const known = KNOWN_FAILURES[method]?.[heavy.name];
    const faithful = known ? it.fails : it;

    it(`${method}: no crash, bounded memory, nothing touched outside the output`, () => {
      const run = result().runs.get(method) as GuardedRun;
      expect(run.signal, run.stderr).toBeUndefined();
      expect(run.stderr, 'no stack trace').not.toMatch(/^\s+at /m);
      expect(run.changedCanaries).toEqual([]);
      expect(run.leftovers).toEqual([]);
      expect(run.parentListing).toEqual(run.exitCode === 0 ? ['canary', 'out', 'out.json'] : ['canary']);
      expect(run.maxRssKiB).toBeLessThan(heavy.maxRssKiB as number);
    });

    faithful(
      `${method}: dumps it whole, or refuses it in one line${known ? ` [known failure: ${known.reason}]` : ''}`,
      async () => {
        const run = result().runs.get(method) as GuardedRun;
        const errors = run.stderr.split('\n').filter((line) => line.startsWith('error:'));
        const refusal = heavy.refusedBy?.[method];
        if (refusal) {
          expect(run.exitCode, run.stderr).toBe(1);
          expect(errors).toHaveLength(1);
          expect(errors[0]).toMatch(refusal);
          return;
        }
        expect(run.exitCode, run.stderr).toBe(0);
        await heavy.verify?.(run);
      },
    );
  }
});
