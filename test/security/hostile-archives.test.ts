import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBytes } from '../../src/tar/byte-string.js';
import { type GuardedRun, guardedRun, METHODS, type Method, makeCanary, treeShape } from './guarded-run.js';
import { HOSTILE_CASES, type HostileCase } from './hostile-cases.js';
import { type LoadOutcome, loadHostileImage, removeHostileImages } from './hostile-image.js';
import { KNOWN_FAILURES } from './known-failures.js';

// Every hostile case is loaded into the engine as an attacker's image would arrive, then dumped with every
// method beside a canary folder. Each case also has a host canary folder, named by absolute links in its
// layers, so that a write through them is pinned on the case (cases run side by side, methods one by one).

const run = randomUUID().slice(0, 8);
const imageLabel = randomUUID();
let work: string;

interface CaseResult {
  readonly load: LoadOutcome;
  readonly runs: ReadonlyMap<Method, GuardedRun>;
}
const results = new Map<string, CaseResult>();

const hostCanary = (hostile: HostileCase) => `/tmp/dc-canary-${run}-${hostile.name}`;

async function tryCase(hostile: HostileCase): Promise<CaseResult> {
  const dir = join(work, hostile.name);
  await mkdir(dir);
  const canary = hostCanary(hostile);
  await makeCanary(canary);
  const load = await loadHostileImage(hostile.name, hostile.layers(canary), { dir, label: imageLabel });
  const runs = new Map<Method, GuardedRun>();
  if (!load.loaded) return { load, runs };
  for (const method of METHODS) {
    const runDir = join(dir, method);
    await mkdir(runDir);
    runs.set(method, await guardedRun(load.tag, method, runDir, [canary]));
  }
  return { load, runs };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-hostile-'));
  const queue = [...HOSTILE_CASES];
  // Three at a time: the engine and two cores stay busy without runs starving each other.
  await Promise.all(
    Array.from({ length: 3 }, async () => {
      for (let hostile = queue.shift(); hostile; hostile = queue.shift()) {
        results.set(hostile.name, await tryCase(hostile));
      }
    }),
  );
});

afterAll(async () => {
  await removeHostileImages(imageLabel);
  await rm(work, { recursive: true, force: true });
  await Promise.all(
    HOSTILE_CASES.map((hostile) => rm(hostCanary(hostile), { recursive: true, force: true })),
  );
});

describe.each(HOSTILE_CASES)('$name: $attempt', (hostile: HostileCase) => {
  const result = () => results.get(hostile.name) as CaseResult;

  if (hostile.refusedAtLoad) {
    it('is refused by docker load, so nothing of it reaches the tool', () => {
      expect(result().load).toMatchObject({
        loaded: false,
        refusal: expect.stringMatching(hostile.refusedAtLoad as RegExp),
      });
    });
    return;
  }

  for (const method of METHODS) {
    const known = KNOWN_FAILURES[method]?.[hostile.name];
    // A known failure is marked, not hidden: the test fails the day the fix lands, to be unmarked then.
    const contained = known?.escapes ? it.fails : it;
    const faithful = known ? it.fails : it;
    const tag = known ? ` [known ${known.escapes ? 'escape' : 'failure'}: ${known.reason}]` : '';

    contained(
      `${method}: touches nothing outside the output and leaves nothing behind${known?.escapes ? tag : ''}`,
      () => {
        expect(result().load, 'docker load').toMatchObject({ loaded: true });
        const run = result().runs.get(method) as GuardedRun;
        expect(run.changedCanaries, run.stderr).toEqual([]);
        expect(run.leftovers).toEqual([]);
        expect(run.parentListing).toEqual(run.exitCode === 0 ? ['canary', 'out', 'out.json'] : ['canary']);
        expect(run.stderr, 'no stack trace').not.toMatch(/^\s+at /m);
      },
    );

    faithful(`${method}: dumps the image faithfully, or refuses it in one line${tag}`, () => {
      const run = result().runs.get(method) as GuardedRun;
      const errors = run.stderr.split('\n').filter((line) => line.startsWith('error:'));
      const refusal = hostile.refusedBy?.[method] ?? (run.exitCode !== 0 && hostile.mayBeRefusedBy?.[method]);
      if (refusal) {
        expect(run.exitCode, run.stderr).toBe(1);
        expect(errors).toHaveLength(1);
        expect(errors[0]).toMatch(refusal);
        return;
      }
      expect(run.exitCode, run.stderr).toBe(0);
      expect(errors).toEqual([]);
      expect(treeShape(run.tree ?? [])).toEqual(hostile.expected?.(hostCanary(hostile)));
      hostile.verify?.(run.tree ?? []);
      // The manifest lists exactly what is on disk, by exact name (byte strings, surrogateescape).
      const onDisk = (run.tree ?? []).map((entry) => decodeBytes(entry.path)).sort();
      expect((run.manifest?.entries ?? []).map((entry) => entry.path).sort()).toEqual(onDisk);
    });
  }
});
