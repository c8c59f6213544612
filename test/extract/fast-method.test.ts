import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { applyLayer } from '../../src/extract/fast/apply-layer.js';
import { LayerTree } from '../../src/extract/fast/layer-tree.js';
import { readSave } from '../../src/extract/fast/read-save.js';
import { canonicaliseHardlinks } from '../../src/extract/hardlink-groups.js';
import { removeTree } from '../../src/extract/output-folder.js';
import { extractImage } from '../../src/index.js';
import { type Manifest, type ManifestEntry, sortEntries } from '../../src/manifest.js';
import { runCli } from '../support/cli.js';
import { compareTrees, readDumpTree, readImageTree } from '../support/image-tree.js';
import { docker, leftovers, stagingLeftovers, testLabel } from '../support/leftovers.js';

let work: string;
/** A host folder that image symlinks point at: nothing may ever be written into it. */
let sentinel: string;
const label = testLabel();
const TRAPS_TAG = `distroless-contents-test/fast-traps:${label.value}`;
const BUILT_TAG = `distroless-contents-test/fast-built:${label.value}`;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-fast-'));
  sentinel = join(work, 'host-sentinel');
  await mkdir(sentinel);
  await writeFile(join(sentinel, 'secret'), 'host file\n');
  await loadTrapsImage(join(work, 'traps'), TRAPS_TAG, sentinel);
  await buildBuiltImage(BUILT_TAG);
});

afterAll(async () => {
  for (const image of await docker.listImages({ filters: JSON.stringify({ label: [label.arg] }) })) {
    await docker.getImage(image.Id).remove({ force: true });
  }
  await rm(work, { recursive: true, force: true });
});

interface Dump {
  readonly output: string;
  readonly manifest: Manifest;
  readonly warnings: readonly string[];
}

async function dump(
  image: string,
  method: 'article' | 'fast',
  name: string,
  labels: Record<string, string>,
): Promise<Dump> {
  const output = join(work, `${name}-${method}`);
  const result = await extractImage(image, {
    output,
    manifest: `${output}.json`,
    method,
    base: TEST_IMAGES.shell,
    pull: 'never',
    labels,
  });
  const manifest = JSON.parse(await readFile(`${output}.json`, 'utf8')) as Manifest;
  expect(result.manifest).toEqual(manifest);
  return { output, manifest, warnings: result.warnings };
}

/**
 * Where the article method on Engine 20.10 (the engine's own `COPY --from`) and the fast method (the image
 * spec) part: folders a layer needs as parents without listing them. overlay2 makes each root:root 0755 with
 * the time of `docker load`; by the spec it keeps the lower folder's owner, mode and mtime, and one no lower
 * layer has is root:root 0755 with the epoch (missingParentMeta). `implied` are those paths; `spec` is the
 * image read by the spec's rules, independently of the tool.
 */
interface Overlay2Deviation {
  readonly implied: ReadonlySet<string>;
  readonly spec: ReadonlyMap<string, ManifestEntry>;
  /**
   * The time overlay2 stamped each implied folder with (when the engine loaded its layer): no API tells it,
   * so it is read in the layer folders the engine names (GraphDriver's UpperDir, then LowerDir), topmost first.
   */
  readonly stamps: ReadonlyMap<string, number>;
}

async function overlay2Deviation(image: string): Promise<Overlay2Deviation> {
  const [spec, overlay2, inspect] = await Promise.all([
    readImageTree(docker, image, 'spec'),
    readImageTree(docker, image, 'overlay2'),
    docker.getImage(image).inspect(),
  ]);
  const implied = new Set(
    [...overlay2.values()].filter((e) => e.type === 'dir' && e.mtime === 0).map((e) => e.path),
  );
  expect(inspect.GraphDriver.Name).toBe('overlay2');
  const { UpperDir, LowerDir } = inspect.GraphDriver.Data as { UpperDir?: string; LowerDir?: string };
  const layers = [UpperDir, ...(LowerDir ?? '').split(':')].filter((d): d is string => Boolean(d));
  const stamps = new Map<string, number>();
  for (const path of implied) {
    for (const layer of layers) {
      const stat = await lstat(join(layer, path)).catch(() => undefined);
      if (!stat) continue;
      stamps.set(path, Math.floor(stat.mtimeMs / 1000));
      break;
    }
  }
  return { implied, spec, stamps };
}

const ownerModeTime = (e: ManifestEntry | undefined) =>
  e && { type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime };

/**
 * The fast method's entries are the article method's, but for the implied folders: there the fast method's
 * are the spec's, and the article method's are overlay2's (root:root 0755, stamped when the engine loaded
 * the layer).
 */
/** The fast method's entries as the article method writes them: it reads no layers, so no `layer`. */
function withoutLayer(entries: readonly ManifestEntry[]): ManifestEntry[] {
  return entries.map(({ layer: _layer, ...entry }) => entry);
}

function expectSpecWhereOverlay2Deviates(
  fastWithLayers: readonly ManifestEntry[],
  article: readonly ManifestEntry[],
  deviation: Overlay2Deviation,
): void {
  for (const entry of fastWithLayers) expect.soft(typeof entry.layer, entry.path).toBe('number');
  for (const entry of article) expect.soft(entry.layer, entry.path).toBeUndefined();
  const fast = withoutLayer(fastWithLayers);
  const outside = (entries: readonly ManifestEntry[]) =>
    entries.filter((e) => !deviation.implied.has(e.path));
  expect(outside(fast)).toEqual(outside(article));
  const fastBy = new Map(fast.map((e) => [e.path, e]));
  const articleBy = new Map(article.map((e) => [e.path, e]));
  for (const path of deviation.implied) {
    expect(ownerModeTime(fastBy.get(path)), path).toEqual(ownerModeTime(deviation.spec.get(path)));
    expect(ownerModeTime(articleBy.get(path)), path).toEqual({
      type: 'dir',
      mode: 0o755,
      uid: 0,
      gid: 0,
      mtime: deviation.stamps.get(path),
    });
  }
}

describe.each([
  ['static:nonroot', TEST_IMAGES.staticNonroot],
  ['base-nossl:nonroot', TEST_IMAGES.baseNosslNonroot],
  ['edge', TEST_IMAGES.edge],
  ['traps', TRAPS_TAG],
  ['built by the engine', BUILT_TAG],
])('--method fast on %s gives what the article method gives', (name, image) => {
  let article: Dump;
  let fast: Dump;
  let deviation: Overlay2Deviation;
  const run = testLabel();

  beforeAll(async () => {
    article = await dump(image, 'article', name.replace(/\W/g, '-'), run.labels);
    fast = await dump(image, 'fast', name.replace(/\W/g, '-'), run.labels);
    deviation = await overlay2Deviation(image);
  });

  it("writes the same manifest, entry for entry (types, modes, owners, sizes, hashes, targets, xattrs, hardlink groups, mtimes), but the spec's where 20.10's overlay2 deviates", async () => {
    expect(fast.manifest.method).toBe('fast');
    const { layers, efficiency, ...info } = fast.manifest.image;
    expect(info).toEqual(article.manifest.image);
    expect(layers?.filter((layer) => !layer.empty_layer).map((layer) => layer.diff_id)).toEqual(
      (await docker.getImage(image).inspect()).RootFS.Layers,
    );
    expect(efficiency?.score).toBeGreaterThan(0);
    expectSpecWhereOverlay2Deviates(fast.manifest.entries, article.manifest.entries, deviation);
    if (deviation.implied.size === 0)
      expect(JSON.stringify(withoutLayer(fast.manifest.entries))).toBe(
        JSON.stringify(article.manifest.entries),
      );
    expect(fast.warnings).toEqual(article.warnings);
  });

  it("writes the same tree to disk, directory mtimes included, but the spec's where 20.10's overlay2 deviates", async () => {
    const [a, f] = await Promise.all([readDumpTree(article.output), readDumpTree(fast.output)]);
    const outside = (tree: typeof a) => new Map([...tree].filter(([path]) => !deviation.implied.has(path)));
    expect(compareTrees(outside(a), outside(f), { owners: true })).toEqual([]);
    const dirTimes = (tree: typeof a) =>
      [...tree.values()].filter((e) => e.type === 'dir').map((e) => [e.path, e.mtime, e.mode]);
    expect(dirTimes(outside(f))).toEqual(dirTimes(outside(a)));
    for (const path of deviation.implied) {
      expect(ownerModeTime(f.get(path)), path).toEqual(ownerModeTime(deviation.spec.get(path)));
      expect(ownerModeTime(a.get(path)), path).toMatchObject({ type: 'dir', mode: 0o755, uid: 0, gid: 0 });
    }
  });

  it("agrees with the image's own layers read independently by the spec (docker save + whiteouts), folder mtimes included", async () => {
    const onDisk = await readDumpTree(fast.output);
    expect(compareTrees(deviation.spec, onDisk, { owners: true })).toEqual([]);
    const dirTimes = (tree: ReadonlyMap<string, ManifestEntry>) =>
      [...tree.values()].filter((e) => e.type === 'dir').map((e) => [e.path, e.mtime]);
    expect(dirTimes(onDisk)).toEqual(dirTimes(deviation.spec));
  });

  it('gives the same dump twice: nothing depends on the time of the run', async () => {
    const again = await dump(image, 'fast', `${name.replace(/\W/g, '-')}-again`, run.labels);
    expect(JSON.stringify(again.manifest.entries)).toBe(JSON.stringify(fast.manifest.entries));
    const strip = (tree: Map<string, { ino: bigint }>) =>
      [...tree].map(([path, { ino: _ino, ...e }]) => [path, e]);
    expect(strip(await readDumpTree(again.output))).toEqual(strip(await readDumpTree(fast.output)));
  });

  it('runs no container, builds no image, and leaves no staging or spill folder', async () => {
    expect(await leftovers(run.value)).toEqual([]);
    expect(await stagingLeftovers(work)).toEqual([]);
  });
});

describe('--method fast never writes outside the output', () => {
  it('replaces a lower symlink by the directory a layer implies, as every engine does, and leaves its target alone', async () => {
    const { manifest, output } = await dump(TRAPS_TAG, 'fast', 'traps-escape', label.labels);
    expect(manifest.entries.find((e) => e.path === 'escape')).toMatchObject({
      type: 'dir',
      mode: 0o755,
      uid: 0,
      gid: 0,
      mtime: 0,
    });
    expect((await lstat(join(output, 'escape'))).isDirectory()).toBe(true);
    expect(await readdir(sentinel)).toEqual(['secret']);
  });

  it('keeps a hardlink whose target an upper layer deleted, as a plain file', async () => {
    const { manifest } = await dump(TRAPS_TAG, 'fast', 'traps-link', label.labels);
    const byPath = new Map(manifest.entries.map((e) => [e.path, e]));
    expect(byPath.has('a/target')).toBe(false);
    expect(byPath.get('a/link')).toMatchObject({ type: 'file', sha256: sha256('linked\n') });
  });
});

describe('hardlink groups', () => {
  it('names the code-unit-smallest path of a hardlink group as the file, in both methods', async () => {
    for (const method of ['article', 'fast'] as const) {
      const { manifest } = await dump(TRAPS_TAG, method, `traps-groups`, label.labels);
      const byPath = new Map(manifest.entries.map((e) => [e.path, e]));
      expect(byPath.get('w.y'), method).toMatchObject({
        type: 'file',
        sha256: sha256('one inode, two names\n'),
      });
      expect(byPath.get('w/x'), method).toMatchObject({ type: 'hardlink', target: 'w.y', size: 0 });
      expect(byPath.get('a-second'), method).toMatchObject({ type: 'file' });
      expect(byPath.get('z-first'), method).toMatchObject({ type: 'hardlink', target: 'a-second' });
    }
  });

  it.each([
    ['a member below a symlink the same layer made', [symlink('s', '__SENTINEL__'), file('s/planted', 'x')]],
    ['a member climbing out with ..', [dir('d'), file('d/../../planted', 'x')]],
    ['a hardlink to a path below a symlink', [symlink('s', '__SENTINEL__'), hardlink('h', 's/secret')]],
  ])('refuses %s, naming --method article, and writes nothing outside', async (_what, entries) => {
    const target = await mkdtemp(join(work, 'refuse-'));
    const layer = await layerTar(
      entries.map((e) => (e.linkname === '__SENTINEL__' ? { ...e, linkname: sentinel } : e)),
    );
    await expect(applyLayer(Readable.from(layer), target, new LayerTree(), { index: 0 })).rejects.toThrow(
      /--method article/,
    );
    expect(await readdir(sentinel)).toEqual(['secret']);
    expect((await lstat(join(sentinel, 'secret'))).nlink).toBe(1);
  });
});

describe('--method fast as a non-root user in the docker group', () => {
  it("gives the article method's dump and warnings: device nodes skipped, the manifest unchanged", async () => {
    const user = 'dc-nonroot';
    if ((await execa('getent', ['group', 'docker'], { reject: false })).exitCode !== 0) {
      await execa('groupadd', ['--system', 'docker']);
    }
    if ((await execa('id', ['-u', user], { reject: false })).exitCode !== 0) {
      await execa('useradd', ['--system', '--no-create-home', '--groups', 'docker', user]);
    }
    const uid = Number((await execa('id', ['-u', user])).stdout);
    const gid = Number((await execa('getent', ['group', 'docker'])).stdout.split(':')[2]);
    // Not below `work`, which only root may enter.
    const dir = await mkdtemp(join(tmpdir(), 'dc-fast-non-root-'));
    onTestFinished(() => removeTree(dir));
    await chmod(dir, 0o777);
    const run = async (method: string) => {
      const output = join(dir, method);
      const result = await runCli(
        [
          'extract',
          TEST_IMAGES.edge,
          '--method',
          method,
          '--base',
          TEST_IMAGES.shell,
          '--pull',
          'never',
        ].concat(['-o', output, '--manifest', `${output}.json`, '--label', label.arg]),
        { uid, gid, env: { HOME: dir } },
      );
      expect(result.exitCode, String(result.stderr)).toBe(0);
      const manifest = JSON.parse(await readFile(`${output}.json`, 'utf8')) as Manifest;
      return {
        output,
        manifest,
        warnings: String(result.stderr)
          .split('\n')
          .filter((l) => l.startsWith('warning')),
      };
    };
    const article = await run('article');
    const fast = await run('fast');
    const deviation = await overlay2Deviation(TEST_IMAGES.edge);
    expect(deviation.implied.size).toBeGreaterThan(0);
    expectSpecWhereOverlay2Deviates(fast.manifest.entries, article.manifest.entries, deviation);
    expect(fast.warnings).toEqual(article.warnings);
    expect(fast.warnings.join('\n')).toMatch(/Skipped 2 device nodes/);
    const [a, f] = await Promise.all([readDumpTree(article.output), readDumpTree(fast.output)]);
    const outside = (tree: typeof a) => new Map([...tree].filter(([path]) => !deviation.implied.has(path)));
    expect(compareTrees(outside(a), outside(f), { owners: true })).toEqual([]);
    for (const path of deviation.implied) {
      expect(f.get(path)?.mode, path).toBe(deviation.spec.get(path)?.mode);
      expect(a.get(path)?.mode, path).toBe(0o755);
    }
    for (const entry of f.values()) expect.soft(entry.uid, entry.path).toBe(uid);
  });
});

describe('progress of --method fast', () => {
  it("counts docker save's bytes and the layers' members as they stream: the last count is the save's size and member count", async () => {
    const image = TEST_IMAGES.staticNonroot;
    const events: { bytes: number; entries: number; totalBytes?: number }[] = [];
    const output = join(work, 'progress-fast');
    await extractImage(image, {
      output,
      method: 'fast',
      pull: 'never',
      onProgress: (event) => {
        if (event.kind === 'transfer' && event.step === 'copy') events.push(event);
      },
    });
    // Independently: the save's bytes by the docker CLI, its layers' members by GNU tar (-i: the layer
    // tars follow one another, each with its own end marker).
    const id = (await docker.getImage(image).inspect()).Id;
    const { stdout: size } = await execa('bash', [
      '-o',
      'pipefail',
      '-c',
      'docker save "$1" | wc -c',
      '-',
      id,
    ]);
    const { stdout: members } = await execa('bash', [
      '-o',
      'pipefail',
      '-c',
      'docker save "$1" | tar -xO --wildcards "*/layer.tar" | tar -ti | wc -l',
      '-',
      id,
    ]);
    const last = events.at(-1);
    expect(last?.bytes).toBe(Number(size));
    expect(last?.entries).toBe(Number(members));
    expect(last?.totalBytes).toBe((await docker.getImage(image).inspect()).Size);
    for (const [i, event] of events.entries()) {
      expect(event.bytes).toBeGreaterThanOrEqual(events[i - 1]?.bytes ?? 0);
      expect(event.entries).toBeGreaterThanOrEqual(events[i - 1]?.entries ?? 0);
    }
  });
});

describe('the OCI layout that engines 25+ save', () => {
  it.each([
    ['uncompressed blobs with manifest.json (graph driver store)', { gzip: false, manifestJson: true }],
    [
      'gzip blobs, index only, with an attestation manifest (containerd store)',
      { gzip: true, manifestJson: false },
    ],
  ])('gives the same tree from %s', async (_what, layout) => {
    const legacy = await readSaveMembers(TEST_IMAGES.edge);
    const archive = await ociLayout(legacy, layout);
    const dir = await mkdtemp(join(work, 'oci-'));
    const tree = new LayerTree();
    const { RootFS } = await docker.getImage(TEST_IMAGES.edge).inspect();
    const saved = await readSave(Readable.from(archive), {
      diffIds: RootFS.Layers ?? [],
      spillDir: join(work, `${basename(dir)}-spill`),
      apply: (layer, index) => applyLayer(layer, dir, tree, { index }).then(() => {}),
    });
    expect((saved.config as { history?: unknown }).history).toEqual(HISTORY);
    const expected = await readImageTree(docker, TEST_IMAGES.edge, 'spec');
    expect(compareTrees(expected, await readDumpTree(dir), { owners: true })).toEqual([]);
    const fast = await dump(TEST_IMAGES.edge, 'fast', `oci-reference-${layout.gzip}`, label.labels);
    expect(JSON.stringify(sortEntries(canonicaliseHardlinks(tree.entries())))).toBe(
      JSON.stringify(fast.manifest.entries),
    );
  });
});

/** The members of a legacy `docker save`: each layer tar by v1 ID, and manifest.json's layer order. */
async function readSaveMembers(image: string): Promise<Buffer[]> {
  const { Id } = await docker.getImage(image).inspect();
  const archive = (await docker.getImage(Id).get()) as unknown as Readable;
  const members = new Map<string, Buffer>();
  const extract = tar.extract();
  const collected = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      members.set(entry.header.name, Buffer.concat(chunks));
    }
  })();
  archive.pipe(extract);
  await collected;
  const manifest = JSON.parse((members.get('manifest.json') as Buffer).toString('utf8')) as {
    Layers: string[];
  }[];
  return (manifest[0]?.Layers ?? []).map((name) => members.get(name) as Buffer);
}

/** The config history the layouts below carry: readSave must hand it back, by manifest.json or the index. */
const HISTORY = [{ created_by: 'synthetic layout step' }];

/** An OCI image layout of those layers, members in lexical order as the engine writes them. */
async function ociLayout(
  layers: Buffer[],
  options: { gzip: boolean; manifestJson: boolean },
): Promise<Buffer> {
  const blobs = new Map<string, Buffer>();
  const blob = (data: Buffer) => {
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    blobs.set(`blobs/sha256/${digest.slice(7)}`, data);
    return { digest, size: data.length };
  };
  const layerDescriptors = layers.map((layer) => ({
    mediaType: options.gzip
      ? 'application/vnd.oci.image.layer.v1.tar+gzip'
      : 'application/vnd.oci.image.layer.v1.tar',
    ...blob(options.gzip ? gzipSync(layer) : layer),
  }));
  const config = blob(
    Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [] }, history: HISTORY })),
  );
  const manifest = blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: layerDescriptors,
      }),
    ),
  );
  const attestation = blob(Buffer.from(JSON.stringify({ schemaVersion: 2, layers: [] })));
  const members = new Map(blobs);
  members.set(
    'index.json',
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            ...(options.manifestJson ? {} : { platform: { os: 'unknown', architecture: 'unknown' } }),
            ...attestation,
          },
          { ...manifest, platform: { os: 'linux', architecture: 'amd64' } },
        ].slice(options.manifestJson ? 1 : 0),
      }),
    ),
  );
  members.set('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  if (options.manifestJson) {
    const names = layerDescriptors.map((l) => `blobs/sha256/${l.digest.slice(7)}`);
    const configName = `blobs/sha256/${config.digest.slice(7)}`;
    members.set('manifest.json', Buffer.from(JSON.stringify([{ Config: configName, Layers: names }])));
  }
  const entries = [...members].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return layerTar(
    entries.map(([name, data]) => ({ name, type: 'file', mode: 0o644, mtime: MTIME, content: data })),
  );
}

/**
 * Layers the engine itself wrote, with the legacy builder: a deletion becomes a `.wh.` file, a directory
 * removed and made again becomes opaque, a chmod or chown copies the file up, a hardlink loses its peer.
 */
async function buildBuiltImage(tag: string): Promise<void> {
  const dockerfile = [
    `FROM ${TEST_IMAGES.shell}`,
    'RUN mkdir -p /data/keep /data/gone /data/opaque && echo a > /data/keep/a && echo b > /data/gone/b' +
      ' && echo c > /data/opaque/c && ln /data/keep/a /data/keep/a-link && ln -s /data/keep/a /data/sym' +
      ' && echo x > /data/keep/x && ln /data/keep/x /data/keep/x-link',
    'RUN rm -rf /data/gone /data/keep/a /data/opaque && mkdir /data/opaque && echo new > /data/opaque/new' +
      ' && chmod 4750 /data/opaque/new && chown 65532:50 /data/opaque/new && chmod 600 /data/keep/x && rm /bin/cal',
    `LABEL ${label.arg}`,
  ].join('\n');
  // No bridge network on these engines: the build's RUN steps need none.
  await execa('docker', ['build', '--quiet', '--network', 'none', '--tag', tag, '-'], {
    input: dockerfile,
    env: { DOCKER_BUILDKIT: '0' },
  });
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

type LayerEntry = Partial<tar.Header> & Pick<tar.Header, 'name'> & { content?: string | Buffer };
const MTIME = new Date(1700000000 * 1000);
function dir(name: string): LayerEntry {
  return { name: `${name}/`, type: 'directory', mode: 0o755, mtime: MTIME };
}
function file(name: string, content: string): LayerEntry {
  return { name, type: 'file', mode: 0o644, mtime: MTIME, content };
}
function symlink(name: string, linkname: string): LayerEntry {
  return { name, type: 'symlink', linkname, mode: 0o777, mtime: MTIME };
}
function hardlink(name: string, linkname: string): LayerEntry {
  return { name, type: 'link', linkname, mode: 0o644, mtime: MTIME };
}
function whiteout(name: string): LayerEntry {
  return file(name, '');
}

async function layerTar(entries: readonly LayerEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const { content, ...header } of entries) {
    await new Promise<void>((resolve, reject) => {
      const callback = (error?: Error | null) => (error ? reject(error) : resolve());
      if (content === undefined) pack.entry(header, callback);
      else pack.entry(header, Buffer.from(content), callback);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/**
 * Four layers that hit what a layer applier gets wrong: a hardlink whose target is deleted above it, a
 * lower symlink to a host folder that an upper layer writes below (overlay2 makes it a directory), and two
 * identical layers, which `docker save` stores once and links.
 */
async function loadTrapsImage(dirPath: string, tag: string, hostFolder: string): Promise<void> {
  await mkdir(dirPath);
  const repeated = [dir('dup'), file('dup/file', 'same bytes in two layers\n')];
  const layers = [
    [
      dir('a'),
      file('a/target', 'linked\n'),
      hardlink('a/link', 'a/target'),
      symlink('escape', hostFolder),
      // An archive's walk names w/x first ('w' sorts before 'w.y'); by code units w.y comes first.
      dir('w'),
      file('w/x', 'one inode, two names\n'),
      hardlink('w.y', 'w/x'),
      file('z-first', 'the layer names the larger path first\n'),
      hardlink('a-second', 'z-first'),
    ],
    repeated,
    [dir('a'), whiteout('a/.wh.target'), file('escape/planted', 'must land in the dump\n')],
    repeated,
  ];
  const pack = tar.pack();
  const archive = join(dirPath, 'image.tar');
  const { createWriteStream } = await import('node:fs');
  const { pipeline } = await import('node:stream/promises');
  const written = pipeline(pack, createWriteStream(archive));
  const diffIds: string[] = [];
  const add = (name: string, data: Buffer) =>
    new Promise<void>((resolve, reject) => pack.entry({ name }, data, (e) => (e ? reject(e) : resolve())));
  for (const entries of layers) {
    const data = await layerTar(entries);
    const diffId = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    if (!diffIds.includes(diffId)) await add(`${diffId.slice(7)}/layer.tar`, data);
    diffIds.push(diffId);
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: (await execa('docker', ['version', '--format', '{{.Server.Arch}}'])).stdout.trim(),
      os: 'linux',
      config: { Labels: label.labels },
      rootfs: { type: 'layers', diff_ids: diffIds },
    }),
  );
  const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
  await add(configName, config);
  await add(
    'manifest.json',
    Buffer.from(
      JSON.stringify([
        { Config: configName, RepoTags: [tag], Layers: diffIds.map((d) => `${d.slice(7)}/layer.tar`) },
      ]),
    ),
  );
  pack.finalize();
  await written;
  await execa('docker', ['load', '--quiet', '--input', archive]);
}
