import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { PathSelection } from '../../src/extract/path-selection.js';
import type { Manifest } from '../../src/manifest.js';
import { removeHostileImages } from '../security/hostile-image.js';
import { runCli } from '../support/cli.js';
import { copyImages, type EngineName, openEngine, type TestEngine } from '../support/engines.js';
import { compareTrees, type DiskEntry, readDumpTree } from '../support/image-tree.js';
import { stagingLeftovers, testLabel } from '../support/leftovers.js';
import { manifestTree, type OracleTree, oracleTree } from '../support/oracle.js';
import { BIG_SIZE, SELECTED, writeFixture } from './path-fixture.js';

// --path on the fixture of path-fixture.ts: with each method on Engine 20.10 and Docker 26, and from an OCI
// layout with no engine, the dump of the selected paths equals, entry by entry (owners, modes, times,
// contents, links), both the full dump's subtree and the oracle's (skopeo + umoci unpack) subtree.

const label = testLabel();
const selection = new PathSelection(SELECTED);
const pathArgs = SELECTED.flatMap((path) => ['--path', path]);
const COMPARE = { owners: true, dirMtimes: true, xattrs: true } as const;
let work: string;
let tag: string;
let layout: string;
let oracle: OracleTree;
const engines = new Map<EngineName, TestEngine>();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-paths-'));
  const fixture = await writeFixture(work, label.value);
  tag = fixture.tag;
  for (const name of ['docker-20.10', 'docker-26-containerd'] as const) {
    const engine = await openEngine(name);
    await copyImages(engine, [tag, TEST_IMAGES.shell]);
    engines.set(name, engine);
  }
  oracle = await oracleTree({ engine: engines.get('docker-20.10') as TestEngine, image: tag });
  layout = join(work, 'layout');
  await execa('skopeo', ['copy', '--quiet', `docker-archive:${fixture.archive}`, `oci:${layout}:paths`]);
});

afterAll(async () => {
  for (const engine of engines.values()) {
    await engine.docker
      .getImage(tag)
      .remove({ force: true })
      .catch(() => {});
    await engine.close();
  }
  await removeHostileImages(label.value);
  if (work) await rm(work, { recursive: true, force: true });
});

async function dump(source: string, name: string, args: string[], env: Record<string, string> = {}) {
  const out = join(work, name);
  const result = await runCli(
    [
      'extract',
      source,
      '-o',
      out,
      '--manifest',
      `${out}.json`,
      '--quiet',
      '--base',
      TEST_IMAGES.shell,
      ...args,
    ],
    { env: { ...env, DOCKER_CONTEXT: '' } },
  );
  expect(result.stderr).toBe('');
  expect(result.exitCode).toBe(0);
  const manifest = JSON.parse(await readFile(`${out}.json`, 'utf8')) as Manifest;
  return { manifest, disk: await readDumpTree(out, { xattrs: true }) };
}

/** The oracle's tree restricted to the selection, as --path must give it. */
function oracleSubtree(): Map<string, DiskEntry> {
  return new Map([...oracle.entries].filter(([path]) => selection.covers(path.split('/'))));
}

/** The facts the fixture was written to show, so that agreeing trees cannot agree on nothing. */
function expectFixtureFacts(tree: ReadonlyMap<string, DiskEntry>): void {
  const paths = [...tree.keys()].sort();
  expect(paths).toEqual([
    'etc',
    'etc/hard-a',
    'etc/hard-b',
    'etc/keep',
    'etc/linked',
    'etc/sub',
    'etc/sub/new',
    'link',
    'opt',
    'opt/app',
    'opt/app/conf',
    'opt/app/conf/a',
    'srv',
    'srv/new',
    'srv/new/fresh',
  ]);
  expect(tree.get('opt')).toMatchObject({ type: 'dir', mode: 0o750, uid: 5, gid: 6, mtime: 1_600_000_010 });
  expect(tree.get('opt/app')).toMatchObject({ mode: 0o700, uid: 7, gid: 8, mtime: 1_600_000_111 });
  expect(tree.get('opt/app/conf')).toMatchObject({ mode: 0o750, mtime: 1_600_000_112 });
  expect(tree.get('srv')).toMatchObject({ mode: 0o755, uid: 0, mtime: 1_600_000_201 });
  expect(tree.get('srv/new')).toMatchObject({ mode: 0o700, uid: 1, mtime: 1_600_000_202 });
  expect(tree.get('etc/linked')?.ino).toBe(tree.get('srv/new/fresh')?.ino);
  expect(tree.get('etc/hard-a')?.ino).toBe(tree.get('etc/hard-b')?.ino);
  expect(tree.get('link')).toMatchObject({ type: 'symlink', uid: 2, target: 'opt/app/conf' });
}

describe('--path', () => {
  it('has an oracle that agrees with the fixture, and stamps no folder with the time of the unpack', () => {
    expect(oracle.stamped).toEqual([]);
    expectFixtureFacts(oracleSubtree());
  });

  for (const engineName of ['docker-20.10', 'docker-26-containerd'] as const) {
    for (const method of ['article', 'fast'] as const) {
      it(`dumps the full dump's subtree and the oracle's, --method ${method} on ${engineName}`, async () => {
        const engine = engines.get(engineName) as TestEngine;
        const env = { ...engine.env };
        const full = await dump(tag, `full-${engineName}-${method}`, ['--method', method], env);
        const part = await dump(tag, `part-${engineName}-${method}`, ['--method', method, ...pathArgs], env);
        expect(part.manifest.paths).toEqual(['/etc', '/link', '/opt/app/conf', '/srv/new']);
        expect(full.manifest.paths).toBeUndefined();
        expectFixtureFacts(part.disk);
        expect(
          compareTrees(
            manifestTree(selection.filter(full.manifest.entries)),
            manifestTree(part.manifest.entries),
            COMPARE,
          ),
        ).toEqual([]);
        expect(compareTrees(oracleSubtree(), part.disk, COMPARE)).toEqual([]);
        expect(compareTrees(manifestTree(part.manifest.entries), part.disk, COMPARE)).toEqual([]);
      });
    }
  }

  it('dumps the same subtree from an OCI layout, with no engine', async () => {
    const noEngine = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
    const full = await dump(`oci:${layout}:paths`, 'full-oci', [], noEngine);
    const part = await dump(`oci:${layout}:paths`, 'part-oci', pathArgs, noEngine);
    expect(part.manifest.paths).toEqual(['/etc', '/link', '/opt/app/conf', '/srv/new']);
    // Facts of whole layers are not told from a part; each selected entry still names its layer.
    expect(full.manifest.image?.layers?.length).toBeGreaterThan(0);
    expect(part.manifest.image?.layers).toBeUndefined();
    const roots = ['etc', 'link', 'opt/app/conf', 'srv/new'];
    const selected = (path: string) => roots.some((root) => path === root || path.startsWith(`${root}/`));
    const layerOf = (entries: readonly { path: string; layer?: number }[]) =>
      entries.filter((entry) => selected(entry.path)).map(({ path, layer }) => ({ path, layer }));
    expect(layerOf(part.manifest.entries)).toEqual(layerOf(full.manifest.entries));
    expect(layerOf(part.manifest.entries).every((entry) => typeof entry.layer === 'number')).toBe(true);
    expectFixtureFacts(part.disk);
    expect(
      compareTrees(
        manifestTree(selection.filter(full.manifest.entries)),
        manifestTree(part.manifest.entries),
        COMPARE,
      ),
    ).toEqual([]);
    expect(compareTrees(oracleSubtree(), part.disk, COMPARE)).toEqual([]);
  });

  it.each([
    ['article', 'docker-20.10'],
    ['fast', 'docker-26-containerd'],
    ['oci', ''],
  ] as const)(
    'fails in one line naming a path the image lacks (%s), committing nothing',
    async (method, engineName) => {
      const engine = engineName === '' ? undefined : engines.get(engineName);
      const source = engine ? tag : `oci:${layout}:paths`;
      const out = join(work, `missing-${method}`);
      for (const [path, message] of [
        ['/srv/nothing', '--path /srv/nothing: the image has no /srv/nothing; check the name'],
        [
          '/bin/tool',
          '--path /bin/tool: /bin is a symlink to usr/bin in the image; give the path without symlinks',
        ],
      ]) {
        const result = await runCli(
          [
            'extract',
            source,
            '-o',
            out,
            '--manifest',
            `${out}.json`,
            '--quiet',
            '--base',
            TEST_IMAGES.shell,
            '--path',
            '/etc',
            '--path',
            '/srv/new',
            '--path',
            path as string,
            ...(engine ? ['--method', method] : []),
          ],
          {
            env: {
              ...(engine?.env ?? { DOCKER_HOST: 'unix:///nonexistent/docker.sock' }),
              DOCKER_CONTEXT: '',
            },
          },
        );
        expect(result.exitCode).toBe(1);
        expect(String(result.stderr).trim().split('\n')).toHaveLength(1);
        expect(result.stderr).toContain(message);
        await expect(stat(out)).rejects.toThrow(/ENOENT/);
        await expect(stat(`${out}.json`)).rejects.toThrow(/ENOENT/);
        expect(await stagingLeftovers(work)).toEqual([]);
      }
    },
  );

  it.each([
    ['a relative path', 'etc', 'Invalid --path "etc" (option paths): expected an absolute path in the image'],
    ['a path with ..', '/opt/../etc', 'Invalid --path "/opt/../etc" (option paths): ".." is not allowed'],
    [
      'a COPY pattern, article method',
      '/etc/*',
      '--path "/etc/*" holds a character a Dockerfile\'s COPY reads as a pattern',
    ],
  ])('refuses %s as a usage error in one line, before any engine', async (_name, path, message) => {
    const result = await runCli(['extract', tag, '-o', join(work, 'never'), '--path', path], {
      env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock', DOCKER_CONTEXT: '' },
    });
    expect(result.exitCode).toBe(2);
    expect(String(result.stderr).trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(message);
  });

  it('applies to every image of a batch (--from-file)', async () => {
    const list = join(work, 'images.txt');
    await writeFile(list, `${tag}\noci:${layout}:paths\n`);
    const outputDir = join(work, 'batch');
    const result = await runCli(
      [
        'extract',
        '--from-file',
        list,
        '--output-dir',
        outputDir,
        '--method',
        'fast',
        '--path',
        '/opt/app/conf',
        '--json',
        '--quiet',
      ],
      { env: { DOCKER_CONTEXT: '' } },
    );
    expect(result.exitCode).toBe(0);
    const summary = JSON.parse(String(result.stdout)) as { images: { manifest: string }[] };
    expect(summary.images).toHaveLength(2);
    for (const image of summary.images) {
      const manifest = JSON.parse(await readFile(image.manifest, 'utf8')) as Manifest;
      expect(manifest.paths).toEqual(['/opt/app/conf']);
      expect(manifest.entries.map((entry) => entry.path)).toEqual([
        'opt',
        'opt/app',
        'opt/app/conf',
        'opt/app/conf/a',
      ]);
    }
  });

  it('never writes a body outside the selection: a 24 MiB file stays off an 8 MiB disk', async () => {
    if (process.getuid?.() !== 0) throw new Error('This test mounts a small tmpfs and needs root.');
    const mountPoint = join(work, 'small');
    await mkdir(mountPoint);
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint]);
    try {
      const noEngine = { DOCKER_HOST: 'unix:///nonexistent/docker.sock', DOCKER_CONTEXT: '' };
      const source = `oci:${layout}:paths`;
      const part = await runCli(['extract', source, '-o', join(mountPoint, 'part'), '--quiet', ...pathArgs], {
        env: noEngine,
      });
      expect(part.stderr).toBe('');
      expect(part.exitCode).toBe(0);
      // The control: the same run without --path needs the big file's room, and fails for want of it.
      const whole = await runCli(['extract', source, '-o', join(mountPoint, 'whole'), '--quiet'], {
        env: noEngine,
      });
      expect(whole.exitCode).toBe(1);
      expect(whole.stderr).toMatch(/space|full/i);
      expect(BIG_SIZE).toBeGreaterThan(8 * 1024 * 1024);
    } finally {
      await execa('umount', [mountPoint]);
    }
  });
});
