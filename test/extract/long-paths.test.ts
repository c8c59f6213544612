import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import type { Manifest } from '../../src/manifest.js';
import { loadHostileImage, removeHostileImages } from '../security/hostile-image.js';
import type { RawEntry } from '../security/raw-tar.js';
import { runCli } from '../support/cli.js';
import { stagingLeftovers } from '../support/leftovers.js';

// A folder of 3,990 bytes with a file in it (what an overlay2 layer can hold: the engine's own prefix is some
// 95 bytes) under an output whose parent has 60 characters: absolute, both are longer than PATH_MAX (4,096).

const COMPONENTS = [...Array(18).fill('d'.repeat(210)), 'd'.repeat(3990 - 18 * 211)];
const DIRS = COMPONENTS.map((_, i) => COMPONENTS.slice(0, i + 1).join('/'));
const DEEP_DIR = DIRS[DIRS.length - 1] as string;
const FILE = `${DEEP_DIR}/file`;
const CONTENT = Buffer.from('the deepest file\n');
const LAYER: RawEntry[] = [
  ...DIRS.map((name): RawEntry => ({ name, type: 'dir', mode: 0o755 })),
  { name: FILE, type: 'file', mode: 0o644, content: CONTENT },
];
// Big enough that a run killed while it is applied has already written the long path.
const FILLER: RawEntry[] = [{ name: 'filler', type: 'file', mode: 0o644, content: Buffer.alloc(64 << 20) }];

const label = randomUUID();
let work: string;
let parent: string;
let tag: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-long-'));
  parent = join(work, 'p'.repeat(60 - work.length - 1));
  await mkdir(parent);
  const loaded = await loadHostileImage('long-path', [LAYER, FILLER], { dir: work, label });
  if (!loaded.loaded) throw new Error(`docker load refused the image: ${loaded.refusal}`);
  tag = loaded.tag;
}, 120_000);

afterAll(async () => {
  await removeHostileImages(label);
  // GNU rm walks by open folders; fs.rm would meet ENAMETOOLONG.
  await execa('rm', ['-rf', work]);
});

/** The file's content, read by a path relative to the output: an oracle that is not the tool. */
async function readDeepFile(output: string): Promise<string> {
  const result = await execa('cat', [FILE], {
    cwd: output,
    encoding: 'buffer',
    reject: false,
    stripFinalNewline: false,
  });
  return result.exitCode === 0 ? Buffer.from(result.stdout).toString() : `missing: ${result.stderr}`;
}

function extract(method: string, name: string) {
  const output = join(parent, name);
  const manifest = join(work, `${name}.json`);
  const args = ['extract', tag, '-o', output, '--manifest', manifest, '--method', method, '--quiet'];
  return { output, manifest, args: [...args, '--base', TEST_IMAGES.shell, '--pull', 'never'] };
}

describe('a path near PATH_MAX', () => {
  it('is written by the fast method, and nothing is left beside the output', async () => {
    expect(parent.length).toBe(60);
    expect(Buffer.byteLength(DEEP_DIR)).toBe(3990);
    const run = extract('fast', 'fast');
    const result = await runCli(run.args);
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(await readDeepFile(run.output)).toBe(CONTENT.toString());
    const manifest = JSON.parse(await readFile(run.manifest, 'utf8')) as Manifest;
    expect(manifest.entries.find((entry) => entry.path === FILE)?.size).toBe(CONTENT.length);
    expect(manifest.warnings).toBeUndefined();
    expect(await stagingLeftovers(parent)).toEqual([]);
  }, 120_000);

  it('is read back by report and diff from the dump folder (scanned, hashed), as long as it is', async () => {
    const { output, manifest } = extract('fast', 'fast');
    const report = await runCli(['report', output, '--json', '--top', '0', '--quiet']);
    expect(report.exitCode, String(report.stderr)).toBe(0);
    const largest = (JSON.parse(String(report.stdout)) as { largestFiles: { path: string; size: number }[] })
      .largestFiles;
    expect(largest.find((file) => file.path === FILE)?.size).toBe(CONTENT.length);
    // The folder scanned and hashed against the manifest written with it: nothing differs.
    const diff = await runCli(['diff', output, manifest, '--hash', '--json', '--quiet']);
    expect(diff.exitCode, String(diff.stderr)).toBe(0);
  }, 120_000);

  it('left out by the engine with the article method is named in a warning and in the manifest', async () => {
    const run = extract('article', 'article');
    const result = await runCli(run.args);
    expect(result.exitCode, String(result.stderr)).toBe(0);
    // The folder of 3,990 bytes is too long for the engine already, and its file goes with it.
    const short = (path: string) =>
      `${JSON.stringify(`${path.slice(0, 60)}…${path.slice(-60)}`)} (${path.length} bytes)`;
    const warning = `warning: The engine's archive left out 2 paths of the image, too long for it to read (${short(DEEP_DIR)}, ${short(FILE)}); the dump and the manifest lack them: use --method fast.`;
    expect(String(result.stderr).split('\n')).toContain(warning);
    const manifest = JSON.parse(await readFile(run.manifest, 'utf8')) as Manifest;
    expect(manifest.warnings).toContain(warning.replace(/^warning: /, ''));
    expect(manifest.entries.some((entry) => entry.path === FILE || entry.path === DEEP_DIR)).toBe(false);
    expect(await readDeepFile(run.output)).toMatch(/^missing/);
    expect(await stagingLeftovers(parent)).toEqual([]);
  }, 240_000);

  it('in the staging folder of a run killed with SIGKILL is removed by cleanup', async () => {
    const run = extract('fast', 'killed');
    const child = runCli(run.args.filter((arg) => arg !== '--quiet'));
    child.stderr?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('layer 2 of 2')) child.kill('SIGKILL');
    });
    const killed = await child;
    expect(killed.signal, String(killed.stderr)).toBe('SIGKILL');
    const staging = (await stagingLeftovers(parent)).find((name) => name.includes('killed'));
    expect(staging).toBeDefined();
    // The long path is there to remove: the run had written it before it was killed.
    expect(await readDeepFile(join(parent, staging as string))).toBe(CONTENT.toString());
    const cleanup = await runCli(['cleanup', parent]);
    expect(cleanup.exitCode, String(cleanup.stderr)).toBe(0);
    expect(await readdir(parent)).not.toContain(staging);
    expect(await stagingLeftovers(parent)).toEqual([]);
  }, 120_000);
});
