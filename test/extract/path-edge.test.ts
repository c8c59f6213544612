import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import type { Manifest } from '../../src/manifest.js';
import { runCli } from '../support/cli.js';
import { openEngine, type TestEngine } from '../support/engines.js';
import { readDumpTree } from '../support/image-tree.js';
import { stagingLeftovers } from '../support/leftovers.js';
import { type OracleTree, oracleTree } from '../support/oracle.js';

// --path on the edge image's odd names, on Engine 20.10: a selected path that is a FIFO, a hardlink whose
// file is outside the selection, and a hardlink a later layer whites out. The oracle is skopeo + umoci.

const ENV = { DOCKER_HOST: 'unix:///var/run/docker.sock', DOCKER_CONTEXT: '' };
let work: string;
let engine: TestEngine;
let oracle: OracleTree;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-path-edge-'));
  engine = await openEngine('docker-20.10');
  oracle = await oracleTree({ engine, image: TEST_IMAGES.edge });
});

afterAll(async () => {
  await engine?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

function extract(name: string, args: readonly string[]) {
  const out = join(work, name);
  const result = runCli(
    ['extract', TEST_IMAGES.edge, '-o', out, '--manifest', `${out}.json`, '--quiet', ...args],
    // A regression that blocks must fail, not hang the suite: a CLI stuck in a blocked build ignores SIGTERM.
    { env: ENV, timeout: 90_000, killSignal: 'SIGKILL' },
  );
  return { out, result };
}

async function expectRefused(name: string, args: readonly string[], message: string) {
  const { out, result } = extract(name, args);
  const { exitCode, stderr, timedOut } = await result;
  expect(timedOut).toBe(false);
  expect(exitCode).toBe(1);
  expect(String(stderr).trim().split('\n')).toHaveLength(1);
  expect(stderr).toContain(message);
  await expect(stat(out)).rejects.toThrow(/ENOENT/);
  expect(await stagingLeftovers(work)).toEqual([]);
}

describe('--path on the edge image', () => {
  it('refuses a selected FIFO with the article method in one line, before COPY would block on it', async () => {
    await expectRefused(
      'fifo',
      ['--method', 'article', '--base', TEST_IMAGES.shell, '--path', '/special/fifo'],
      '--path /special/fifo: /special/fifo is a FIFO in the image, and COPY would wait for ever opening it',
    );
  }, 150_000);

  it('dumps a selected FIFO with the fast method', async () => {
    const { out, result } = extract('fifo-fast', ['--method', 'fast', '--path', '/special/fifo']);
    const { exitCode, stderr } = await result;
    expect(stderr).toBe('');
    expect(exitCode).toBe(0);
    const fifo = (await readDumpTree(out)).get('special/fifo');
    const { mode, uid, gid, mtime } = oracle.entries.get('special/fifo') ?? {};
    expect(fifo).toMatchObject({ type: 'fifo', mode, uid, gid, mtime });
  }, 150_000);

  it('dumps a selected hardlink whose file is outside as the file, with the article method', async () => {
    const path = 'links/sub/other-dir-hardlink';
    const { out, result } = extract('hardlink', [
      '--method',
      'article',
      '--base',
      TEST_IMAGES.shell,
      '--path',
      `/${path}`,
    ]);
    const { exitCode, stderr } = await result;
    expect(stderr).toBe('');
    expect(exitCode).toBe(0);
    const expected = oracle.entries.get(path);
    const { mode, uid, gid, mtime } = expected ?? {};
    expect(expected).toBeDefined();
    const disk = (await readDumpTree(out)).get(path);
    expect(disk).toMatchObject({ type: 'file', mode, uid, gid, mtime });
    // The group's file holds the body: the oracle names it original.txt.
    const body = oracle.entries.get('links/original.txt')?.sha256;
    expect(body).toMatch(/^[0-9a-f]{64}$/);
    expect(disk?.sha256).toBe(body);
    const manifest = JSON.parse(await readFile(`${out}.json`, 'utf8')) as Manifest;
    expect(manifest.entries.find((entry) => entry.path === path)).toMatchObject({ type: 'file', mode });
  }, 300_000);

  it('says the image has no path a later layer whited out, though a lower layer held it as a hardlink', async () => {
    expect(oracle.entries.has('layers/new-hard/two')).toBe(false);
    await expectRefused(
      'whited-out',
      ['--method', 'fast', '--path', '/layers/new-hard/two'],
      '--path /layers/new-hard/two: the image has no /layers/new-hard/two; check the name',
    );
  }, 150_000);
});
