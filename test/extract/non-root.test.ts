import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDockerArchive } from '../../docker/docker-archive.mjs';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { removeTree } from '../../src/extract/output-folder.js';
import type { Manifest } from '../../src/manifest.js';
import { runCli } from '../support/cli.js';
import { compareTrees, readDumpTree, readImageTree } from '../support/image-tree.js';
import { docker, leftovers, testLabel } from '../support/leftovers.js';

// A user who can reach the engine through the docker group but cannot chown or mknod.
const USER = 'dc-nonroot';
let uid: number;
let dockerGid: number;
let work: string;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('This test creates a user and needs root.');
  const group = await execa('getent', ['group', 'docker'], { reject: false });
  if (group.exitCode !== 0) await execa('groupadd', ['--system', 'docker']);
  if ((await execa('id', ['-u', USER], { reject: false })).exitCode !== 0) {
    await execa('useradd', ['--system', '--no-create-home', '--groups', 'docker', USER]);
  }
  uid = Number((await execa('id', ['-u', USER])).stdout);
  dockerGid = Number((await execa('getent', ['group', 'docker'])).stdout.split(':')[2]);
  work = await mkdtemp(join(tmpdir(), 'dc-nonroot-'));
  await chmod(work, 0o777);
});
afterAll(async () => {
  await removeTree(work);
});

describe('extraction as a non-root user in the docker group', () => {
  let output: string;
  let manifest: Manifest;
  let stderr: string;
  let label: ReturnType<typeof testLabel>;

  beforeAll(async () => {
    output = join(work, 'edge');
    label = testLabel();
    const result = await runCli(
      [
        'extract',
        TEST_IMAGES.edge,
        '--base',
        TEST_IMAGES.shell,
        '--pull',
        'never',
        '-o',
        output,
        '--manifest',
        `${output}.json`,
        '--label',
        label.arg,
      ],
      { uid, gid: dockerGid, env: { HOME: work, NO_COLOR: '1' } },
    );
    stderr = String(result.stderr);
    expect(result.exitCode, stderr).toBe(0);
    manifest = JSON.parse(await readFile(`${output}.json`, 'utf8')) as Manifest;
  });

  it('writes every entry it may with exact modes (000, 555, setuid), owned by the user', async () => {
    const expected = await readImageTree(docker, TEST_IMAGES.edge);
    const devices = [...expected.values()]
      .filter((e) => e.type === 'char' || e.type === 'block')
      .map((e) => e.path);
    expect(devices.length).toBeGreaterThan(0);
    for (const path of devices) expected.delete(path);
    const onDisk = await readDumpTree(output);
    expect(compareTrees(expected, onDisk, { owners: false })).toEqual([]);
    for (const entry of onDisk.values()) expect.soft(entry.uid, entry.path).toBe(uid);
    // Read-only and mode-000 folders still received their contents.
    const locked = [...expected.values()].filter((e) => e.type === 'dir' && (e.mode & 0o200) === 0);
    expect(locked.length).toBeGreaterThan(0);
    for (const dir of locked) {
      expect((await stat(join(output, dir.path))).mode & 0o7777, dir.path).toBe(dir.mode);
    }
  });

  it('skips device nodes with one warning naming them, and the manifest keeps them and the true owners', async () => {
    const expected = await readImageTree(docker, TEST_IMAGES.edge);
    const devices = [...expected.values()].filter((e) => e.type === 'char' || e.type === 'block');
    const warnings = stderr.split('\n').filter((line) => line.startsWith('warning:'));
    const deviceWarnings = warnings.filter((line) => /device node/.test(line));
    expect(deviceWarnings).toHaveLength(1);
    for (const device of devices) expect(deviceWarnings[0]).toContain(device.path);
    const byPath = new Map(manifest.entries.map((entry) => [entry.path, entry]));
    for (const want of expected.values()) {
      expect
        .soft(byPath.get(want.path), want.path)
        .toMatchObject({ type: want.type, uid: want.uid, gid: want.gid });
    }
    expect(manifest.entries.some((entry) => entry.uid !== 0 && entry.uid !== uid)).toBe(true);
  });

  it('skips the security.* attribute it may not set with one warning naming it, and the manifest keeps it', () => {
    const warnings = stderr.split('\n').filter((line) => line.startsWith('warning:'));
    expect(warnings.filter((line) => !/device node/.test(line))).toEqual([
      'warning: Did not set 1 extended attribute outside user.* (setting security.* and trusted.* needs root): "caps/net-raw" ("security.capability"); the manifest lists them.',
    ]);
    const caps = manifest.entries.find((entry) => entry.path === 'caps/net-raw');
    expect(Object.keys(caps?.xattrs ?? {})).toEqual(['security.capability']);
  });

  it('leaves nothing behind', async () => {
    expect(await leftovers(label.value)).toEqual([]);
  });
});

describe('an output the user cannot write', () => {
  it('is a usage error before anything starts: one line naming the folder, exit 2, nothing created', async () => {
    const locked = join(work, 'root-only');
    await mkdir(locked, { mode: 0o755 });
    const result = await runCli(
      [
        'extract',
        TEST_IMAGES.staticNonroot,
        '--base',
        TEST_IMAGES.shell,
        '--pull',
        'never',
        '-o',
        join(locked, 'out'),
      ],
      { uid, gid: dockerGid, env: { HOME: work } },
    );
    expect(String(result.stderr)).toMatch(
      /^error: Cannot write --output .*root-only\/out: .*root-only is not writable \(EACCES\); choose a folder you can write\.$/m,
    );
    expect(result.exitCode).toBe(2);
    expect(await readdir(locked)).toEqual([]);
  });
});

describe("a layer that lists a read-only folder, another member, then the folder's child", () => {
  const label = testLabel();
  const tag = `distroless-contents-test/late-child:${label.value}`;

  beforeAll(async () => {
    const layer = join(work, 'late-child-layer.tar');
    const data = await layerTar([
      { name: 'ro/', type: 'directory', mode: 0o555 },
      { name: 'other', content: 'beside\n' },
      { name: 'ro/child', content: 'inside\n' },
    ]);
    await writeFile(layer, data);
    const archive = join(work, 'late-child.tar');
    await writeDockerArchive({
      file: archive,
      tag,
      layers: [{ file: layer, diffId: `sha256:${createHash('sha256').update(data).digest('hex')}` }],
      config: {
        architecture: (await execa('docker', ['version', '--format', '{{.Server.Arch}}'])).stdout.trim(),
        os: 'linux',
        config: { Labels: label.labels },
      },
    });
    await execa('docker', ['load', '--quiet', '--input', archive]);
  });
  afterAll(async () => {
    for (const image of await docker.listImages({ filters: JSON.stringify({ label: [label.arg] }) })) {
      await docker.getImage(image.Id).remove({ force: true });
    }
  });

  it.each(['article', 'fast'])('%s: fills the folder before sealing it', async (method) => {
    const output = join(work, `late-child-${method}`);
    const result = await runCli(
      ['extract', tag, '--method', method, '--base', TEST_IMAGES.shell, '--pull', 'never'].concat([
        '-o',
        output,
        '--label',
        label.arg,
      ]),
      { uid, gid: dockerGid, env: { HOME: work, NO_COLOR: '1' } },
    );
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const expected = await readImageTree(docker, tag);
    expect(compareTrees(expected, await readDumpTree(output), { owners: false })).toEqual([]);
    expect((await stat(join(output, 'ro'))).mode & 0o7777).toBe(0o555);
  });
});

/** A layer tar with its members in the order given (tar-stream writes what it is told). */
async function layerTar(
  entries: readonly (Partial<tar.Header> & { name: string; content?: string })[],
): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const { content, ...header } of entries) {
    await new Promise<void>((resolve, reject) => {
      const callback = (error?: Error | null) => (error ? reject(error) : resolve());
      const full = { mode: 0o644, mtime: new Date(1700000000 * 1000), ...header };
      if (content === undefined) pack.entry(full, callback);
      else pack.entry(full, Buffer.from(content), callback);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}
