import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDockerArchive } from '../../docker/docker-archive.mjs';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import type { Manifest } from '../../src/manifest.js';
import { removeHostileImages } from '../security/hostile-image.js';
import { type RawEntry, writeRawTar } from '../security/raw-tar.js';
import { runCli } from '../support/cli.js';
import { openEngine, type TestEngine } from '../support/engines.js';
import { TEST_LABEL, testLabel } from '../support/leftovers.js';
import { type OracleTree, oracleTree } from '../support/oracle.js';

// The article method with --path links again a hardlink split across two COPY steps, but only one the final
// image holds: here a lower layer's hardlink etc/x -> usr/y was replaced by a later layer's file with the
// same bytes and another mode (a chmod of a hardlinked file, which overlay copies up). And --method fast
// selects /etc alone though a lower layer's etc/x was a hardlink of a file outside. Engine 20.10; the oracle
// is skopeo + umoci.

const ENV = { DOCKER_HOST: 'unix:///var/run/docker.sock', DOCKER_CONTEXT: '' };
const T = 1_600_000_000;
const label = testLabel();
let work: string;
let tag: string;
let archive: string;
let engine: TestEngine;
let oracle: OracleTree;

const dir = (name: string): RawEntry => ({ name: `${name}/`, type: 'dir', mode: 0o755, mtime: T });
const body = Buffer.from('one body\n');

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-path-relink-'));
  const layers = [
    [
      dir('etc'),
      dir('usr'),
      { name: 'usr/y', type: 'file', mode: 0o644, mtime: T, content: body },
      { name: 'etc/x', type: 'hardlink', linkname: 'usr/y', mode: 0o644, mtime: T },
    ],
    [dir('etc'), { name: 'etc/x', type: 'file', mode: 0o600, mtime: T + 1, content: body }],
  ] satisfies RawEntry[][];
  const files: { file: string; diffId: string }[] = [];
  for (const [index, entries] of layers.entries()) {
    const file = join(work, `layer-${index}.tar`);
    files.push({ file, diffId: await writeRawTar(entries, file) });
  }
  tag = `distroless-contents-test/relink:${createHash('sha256').update(label.value).digest('hex').slice(0, 8)}`;
  archive = join(work, 'image.tar');
  await writeDockerArchive({
    file: archive,
    tag,
    layers: files,
    config: { architecture: 'amd64', os: 'linux', config: { Labels: { [TEST_LABEL]: label.value } } },
  });
  await execa('docker', ['load', '--quiet', '--input', archive], { env: ENV });
  engine = await openEngine('docker-20.10');
  oracle = await oracleTree({ engine, image: tag });
});

afterAll(async () => {
  await removeHostileImages(label.value);
  await engine?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('--path across two COPY steps', () => {
  it('keeps apart the names a later layer split, as the image has them (--method article)', async () => {
    // The oracle first: two files, their own modes.
    expect(oracle.entries.get('etc/x')).toMatchObject({ type: 'file', mode: 0o600 });
    expect(oracle.entries.get('usr/y')).toMatchObject({ type: 'file', mode: 0o644 });
    const out = join(work, 'out');
    const result = await runCli(
      [
        'extract',
        tag,
        '-o',
        out,
        '--manifest',
        `${out}.json`,
        '--quiet',
        '--method',
        'article',
        '--base',
        TEST_IMAGES.shell,
        '--path',
        '/etc',
        '--path',
        '/usr',
      ],
      { env: ENV, timeout: 240_000, killSignal: 'SIGKILL' },
    );
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const [x, y] = await Promise.all([lstat(join(out, 'etc/x')), lstat(join(out, 'usr/y'))]);
    expect(x.ino).not.toBe(y.ino);
    expect(x.mode & 0o7777).toBe(0o600);
    expect(y.mode & 0o7777).toBe(0o644);
    const manifest = JSON.parse(await readFile(`${out}.json`, 'utf8')) as Manifest;
    const entry = (path: string) => manifest.entries.find((e) => e.path === path);
    expect(entry('etc/x')).toMatchObject({ type: 'file', mode: 0o600 });
    expect(entry('usr/y')).toMatchObject({ type: 'file', mode: 0o644 });
  }, 300_000);

  it('dumps /etc alone though a lower layer held etc/x as a hardlink of usr/y (--method fast, no engine)', async () => {
    const out = join(work, 'etc-only');
    const result = await runCli(
      [
        'extract',
        `docker-archive:${archive}`,
        '-o',
        out,
        '--manifest',
        `${out}.json`,
        '--quiet',
        '--path',
        '/etc',
      ],
      { env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock', DOCKER_CONTEXT: '' }, timeout: 120_000 },
    );
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const { mode, uid, gid, mtime } = oracle.entries.get('etc/x') ?? {};
    const manifest = JSON.parse(await readFile(`${out}.json`, 'utf8')) as Manifest;
    expect(manifest.entries.map((e) => e.path).sort()).toEqual(['etc', 'etc/x']);
    expect(manifest.entries.find((e) => e.path === 'etc/x')).toMatchObject({
      type: 'file',
      mode,
      uid,
      gid,
      mtime,
    });
    expect(await readFile(join(out, 'etc/x'))).toEqual(body);
  }, 150_000);
});
