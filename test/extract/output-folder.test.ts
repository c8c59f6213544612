import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { prepareOutput } from '../../src/extract/output-folder.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-output-folder-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A folder nobody may write: read-only mounted for root (who ignores modes), mode 500 otherwise. */
async function readOnlyFolder(name: string): Promise<{ path: string; release: () => Promise<void> }> {
  const path = join(work, name);
  await mkdir(path);
  if (process.getuid?.() === 0) {
    await execa('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', path]);
    return { path, release: async () => void (await execa('umount', [path])) };
  }
  await execa('chmod', ['500', path]);
  return { path, release: async () => void (await execa('chmod', ['700', path])) };
}

describe('prepareOutput checks the output and manifest before any work', () => {
  it.each([
    ['a manifest that is a folder', (dir: string) => ({ manifest: dir }), /is a folder; name a file/],
    [
      'a manifest whose folder does not exist',
      (dir: string) => ({ manifest: join(dir, 'nonexistent', 'm.json') }),
      /the folder .*nonexistent does not exist/,
    ],
    [
      'a manifest inside the output folder',
      (dir: string) => ({ manifest: join(dir, 'out', 'm.json') }),
      /inside the output folder/,
    ],
  ])('refuses %s with a usage error and creates nothing', async (_name, paths, message) => {
    const dir = await mkdtemp(join(work, 'case-'));
    const { manifest } = paths(dir);
    const prepared = prepareOutput(join(dir, 'out'), false, manifest);
    await expect(prepared).rejects.toThrow(UsageError);
    await expect(prepared).rejects.toThrow(message);
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses an output that is a file with a usage error', async () => {
    const file = join(work, 'a-file');
    await writeFile(file, 'keep me');
    await expect(prepareOutput(file, true)).rejects.toThrow(UsageError);
    expect(await readFile(file, 'utf8')).toBe('keep me');
  });

  it('refuses an output or a manifest in a folder it cannot write, with a usage error', async () => {
    const locked = await readOnlyFolder('locked');
    try {
      await expect(prepareOutput(join(locked.path, 'out'), false)).rejects.toThrow(/is not writable/);
      await expect(prepareOutput(join(locked.path, 'deeper', 'out'), false)).rejects.toThrow(UsageError);
      const dir = await mkdtemp(join(work, 'case-'));
      await expect(prepareOutput(join(dir, 'out'), false, join(locked.path, 'm.json'))).rejects.toThrow(
        /Cannot write --manifest .* is not writable/,
      );
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await locked.release();
    }
  });
});

describe('output and manifest are committed together', () => {
  it('makes the folders above a new output, the manifest beside it included (dumps/x and dumps/x.json)', async () => {
    const dir = await mkdtemp(join(work, 'case-'));
    const output = await prepareOutput(join(dir, 'dumps', 'x'), false, join(dir, 'dumps', 'x.json'));
    await output.commit('{}\n');
    await output.discard();
    expect((await readdir(join(dir, 'dumps'))).sort()).toEqual(['x', 'x.json']);
  });

  it('puts both in place', async () => {
    const dir = await mkdtemp(join(work, 'case-'));
    const output = await prepareOutput(join(dir, 'out'), false, join(dir, 'm.json'));
    await writeFile(join(output.staging, 'file'), 'new');
    await output.commit('{"new":true}\n');
    await output.discard();
    expect(await readdir(dir)).toEqual(['m.json', 'out']);
    expect(await readFile(join(dir, 'out', 'file'), 'utf8')).toBe('new');
    expect(await readFile(join(dir, 'm.json'), 'utf8')).toBe('{"new":true}\n');
  });

  it('changes neither when the manifest cannot be put in place', async () => {
    const dir = await mkdtemp(join(work, 'case-'));
    await mkdir(join(dir, 'out'));
    await writeFile(join(dir, 'out', 'file'), 'old');
    const output = await prepareOutput(join(dir, 'out'), true, join(dir, 'm.json'));
    await writeFile(join(output.staging, 'file'), 'new');
    // After the checks, something takes the manifest's place: the rename onto a non-empty folder fails.
    await mkdir(join(dir, 'm.json'));
    await writeFile(join(dir, 'm.json', 'keep'), 'keep');
    await expect(output.commit('{}\n')).rejects.toThrow();
    await output.discard();
    expect((await readdir(dir)).sort()).toEqual(['m.json', 'out']);
    expect(await readFile(join(dir, 'out', 'file'), 'utf8')).toBe('old');
    expect(await readdir(join(dir, 'm.json'))).toEqual(['keep']);
  });
});
