import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { diffTargets, reportFor } from '../../src/index.js';
import type { Manifest } from '../../src/manifest.js';

let work: string;
const manifest = (entries: Manifest['entries']): Manifest => ({
  schema: 1,
  tool: { name: 'distroless-contents', version: '0.0.0' },
  method: 'fast',
  image: {
    reference: 'x',
    id: `sha256:${'0'.repeat(64)}`,
    platform: 'linux/amd64',
    user: '',
    workdir: '/',
    env: [],
    entrypoint: null,
    cmd: null,
  },
  entries,
});
const file = { type: 'file', mode: 0o644, uid: 0, gid: 0, size: 3, mtime: 1 } as const;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-target-args-'));
  await writeFile(
    join(work, 'a.json'),
    JSON.stringify(manifest([{ path: 'x', ...file, sha256: 'a'.repeat(64) }])),
  );
  await writeFile(
    join(work, 'b.json'),
    JSON.stringify(manifest([{ path: 'x', ...file, sha256: 'b'.repeat(64) }])),
  );
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('the library takes targets as the CLI does', () => {
  it('diffs two manifest paths, as README shows', async () => {
    const diff = await diffTargets(join(work, 'a.json'), join(work, 'b.json'));
    expect(diff.identical).toBe(false);
    expect(diff.changed.map((change) => change.path)).toEqual(['x']);
  });

  it('reports on a manifest path', async () => {
    expect((await reportFor(join(work, 'a.json'))).summary.files).toBe(1);
  });

  it.each([
    [undefined, 'Target 1 is of type undefined'],
    [null, 'Target 1 is null'],
    [{ entries: 'no' }, 'Target 1 is an object that is not a target'],
  ])('refuses %j with a usage error saying what it takes', async (value, message) => {
    const refused = diffTargets(value as never, join(work, 'b.json'));
    await expect(refused).rejects.toThrow(UsageError);
    await expect(refused).rejects.toThrow(message);
  });
});
