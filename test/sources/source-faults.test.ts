import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { readDumpTree } from '../support/image-tree.js';

// Engine-free: a small OCI layout written here (one gzip layer, one plain), and faults made in copies of it.

const NO_ENGINE = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
let work: string;
let layerBlobs: string[];

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

async function layerTar(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files))
    pack.entry({ name, mode: 0o644, mtime: new Date(1e12) }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function writeLayout(dir: string): Promise<string[]> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const blob = async (bytes: Buffer) => {
    await writeFile(join(dir, 'blobs', 'sha256', sha256(bytes).slice(7)), bytes);
    return { digest: sha256(bytes), size: bytes.length };
  };
  const lower = await layerTar({ 'etc/hello': 'hello\n', 'etc/gone': 'x' });
  const upper = await layerTar({ 'etc/.wh.gone': '', 'etc/upper': 'upper\n' });
  const gz = await blob(gzipSync(lower));
  const plain = await blob(upper);
  const config = await blob(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { User: '65532', Env: ['PATH=/bin'] },
        rootfs: { type: 'layers', diff_ids: [sha256(lower), sha256(upper)] },
      }),
    ),
  );
  const manifest = await blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [
          { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...gz },
          { mediaType: 'application/vnd.oci.image.layer.v1.tar', ...plain },
        ],
      }),
    ),
  );
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const ref = (name: string) => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    ...manifest,
    annotations: { 'org.opencontainers.image.ref.name': name },
  });
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [ref('1.0'), ref('stable')] }),
  );
  return [gz.digest, plain.digest];
}

async function copyLayout(name: string): Promise<string> {
  const dir = join(work, name);
  await execa('cp', ['-a', join(work, 'good'), dir]);
  return dir;
}

async function extract(source: string) {
  const out = join(work, 'outputs', `out-${Math.random().toString(16).slice(2)}`);
  const result = await runCli(['extract', source, '-o', out, '--quiet'], { env: NO_ENGINE });
  const left = (await readdir(join(work, 'outputs'))).filter((name) =>
    name.startsWith('.distroless-contents'),
  );
  const written = await readdir(out).catch(() => undefined);
  return { code: result.exitCode, stderr: String(result.stderr).trim(), out, left, written };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-source-faults-'));
  await mkdir(join(work, 'outputs'));
  layerBlobs = await writeLayout(join(work, 'good'));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('file source faults: one line, exit 1, nothing written', () => {
  it('the good layout dumps, with the whiteout applied', async () => {
    const { code, out, stderr } = await extract(`oci:${join(work, 'good')}:stable`);
    expect([code, stderr]).toEqual([0, '']);
    expect([...(await readDumpTree(out)).keys()]).toEqual(['etc', 'etc/hello', 'etc/upper']);
  });

  it.each([0, 1])('a flipped byte in layer blob %i is a digest error', async (layer) => {
    const dir = await copyLayout(`flipped-${layer}`);
    const file = join(dir, 'blobs', 'sha256', (layerBlobs[layer] as string).slice(7));
    const bytes = await readFile(file);
    // Inside the gzip stream's data, or a plain tar's first file content.
    const at = layer === 0 ? 20 : 512;
    bytes[at] = (bytes[at] as number) ^ 0x01;
    await writeFile(file, bytes);
    const result = await extract(`oci:${dir}:1.0`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^error: layer ${layer + 1} of 2 \\(blobs/sha256/${(layerBlobs[layer] as string).slice(7)} in .*\\) is corrupt: its (sha256|digest) is [0-9a-f]{64}, not ${(layerBlobs[layer] as string).slice(7)}$`,
      ),
    );
    expect(result.written).toBeUndefined();
    expect(result.left).toEqual([]);
  });

  it('a foreign (non-distributable) layer the layout does not hold is one line naming where it lives', async () => {
    const dir = await copyLayout('foreign');
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
    const manifestFile = join(dir, 'blobs', 'sha256', index.manifests[0].digest.slice(7));
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
    manifest.layers[0].mediaType = 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';
    manifest.layers[0].urls = ['https://example.invalid/layer'];
    await rm(join(dir, 'blobs', 'sha256', manifest.layers[0].digest.slice(7)));
    const bytes = Buffer.from(JSON.stringify(manifest));
    await writeFile(join(dir, 'blobs', 'sha256', sha256(bytes).slice(7)), bytes);
    index.manifests = [{ ...index.manifests[0], digest: sha256(bytes), size: bytes.length }];
    await writeFile(join(dir, 'index.json'), JSON.stringify(index));
    const result = await extract(`oci:${dir}`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^error: layer 1 of 2 \(blobs\/sha256\/[0-9a-f]{64} in .*\) is a foreign \(non-distributable\) layer the source does not hold; it lives at https:\/\/example\.invalid\/layer; /,
    );
    expect(result.written).toBeUndefined();
  });

  it('a zstd layer with a flipped byte is a digest error too', async () => {
    const dir = await copyLayout('zstd-flipped');
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
    const manifestFile = join(dir, 'blobs', 'sha256', index.manifests[0].digest.slice(7));
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
    const gzFile = join(dir, 'blobs', 'sha256', manifest.layers[0].digest.slice(7));
    const { stdout } = await execa('sh', ['-c', `gzip -dc ${gzFile} | zstd -q -c | base64 -w0`]);
    const zstd = Buffer.from(stdout, 'base64');
    const zstdDigest = sha256(zstd);
    zstd[zstd.length - 8] = (zstd[zstd.length - 8] as number) ^ 0x10;
    await writeFile(join(dir, 'blobs', 'sha256', zstdDigest.slice(7)), zstd);
    manifest.layers[0] = {
      ...manifest.layers[0],
      mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd',
      digest: zstdDigest,
      size: zstd.length,
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    await writeFile(join(dir, 'blobs', 'sha256', sha256(bytes).slice(7)), bytes);
    index.manifests = [{ ...index.manifests[0], digest: sha256(bytes), size: bytes.length }];
    await writeFile(join(dir, 'index.json'), JSON.stringify(index));
    const result = await extract(`oci:${dir}`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`^error: layer 1 of 2 \\(blobs/sha256/${zstdDigest.slice(7)} in .*\\) is corrupt: `),
    );
    expect(result.written).toBeUndefined();
  });

  it('a missing blob names it', async () => {
    const dir = await copyLayout('missing');
    await rm(join(dir, 'blobs', 'sha256', (layerBlobs[1] as string).slice(7)));
    const result = await extract(`oci:${dir}:1.0`);
    expect([result.code, result.stderr]).toEqual([
      1,
      `error: ${dir} lacks blobs/sha256/${(layerBlobs[1] as string).slice(7)}, which its index or manifest names`,
    ]);
    expect(result.written).toBeUndefined();
  });

  it('an unknown ref lists the refs the layout has; none given with two images asks for one', async () => {
    const dir = join(work, 'good');
    expect((await extract(`oci:${dir}:2.0`)).stderr).toBe(
      `error: ${dir} has no image "2.0"; it has "1.0", "stable"`,
    );
    expect((await extract(`oci:${dir}`)).stderr).toBe(
      `error: ${dir} holds 2 images; choose one as oci:PATH:REF (it has "1.0", "stable") or :@N`,
    );
    const picked = await extract(`oci:${dir}:@1`);
    expect(picked.code).toBe(0);
  });

  it('a truncated oci-archive says it is cut short', async () => {
    const archive = join(work, 'layout.tar');
    await execa('tar', ['-cf', archive, '-C', join(work, 'good'), 'oci-layout', 'blobs', 'index.json']);
    expect((await extract(`oci-archive:${archive}:stable`)).code).toBe(0);
    await truncate(archive, 2000);
    const result = await extract(`oci-archive:${archive}:stable`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`^error: archive ${archive} is cut short or not a tar \\(.+\\)$`),
    );
    expect(result.left).toEqual([]);
    expect(result.written).toBeUndefined();
  });

  it('a docker-archive of two images: name:tag or @N chooses, none lists the tags', async () => {
    const dir = join(work, 'two-images');
    await mkdir(join(dir, 'l1'), { recursive: true });
    const layer = await layerTar({ 'app/bin': 'binary\n' });
    await writeFile(join(dir, 'l1', 'layer.tar'), layer);
    const item = async (user: string, tag: string) => {
      const config = Buffer.from(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          config: { User: user },
          rootfs: { type: 'layers', diff_ids: [sha256(layer)] },
        }),
      );
      await writeFile(join(dir, `${sha256(config).slice(7)}.json`), config);
      return { Config: `${sha256(config).slice(7)}.json`, RepoTags: [tag], Layers: ['l1/layer.tar'] };
    };
    await writeFile(
      join(dir, 'manifest.json'),
      JSON.stringify([await item('1', 'app:1'), await item('2', 'app:2')]),
    );
    const archive = join(work, 'two-images.tar');
    await execa('tar', ['-cf', archive, '-C', dir, '.']);
    const chosen = async (source: string) => {
      const out = join(work, 'outputs', `two-${Math.random().toString(16).slice(2)}`);
      const result = await runCli(['extract', source, '-o', out, '--quiet', '--json'], { env: NO_ENGINE });
      return result.exitCode === 0
        ? JSON.parse(String(result.stdout)).image.user
        : String(result.stderr).trim();
    };
    expect(await chosen(`docker-archive:${archive}:app:2`)).toBe('2');
    expect(await chosen(`docker-archive:${archive}:docker.io/library/app:1`)).toBe('1');
    expect(await chosen(`docker-archive:${archive}:@1`)).toBe('2');
    expect(await chosen(`docker-archive:${archive}`)).toBe(
      `error: archive ${archive} holds 2 images; choose one as docker-archive:PATH:NAME:TAG (it has app:1, app:2) or :@N`,
    );
    expect(await chosen(`docker-archive:${archive}:app:3`)).toBe(
      `error: archive ${archive} has no image docker.io/library/app:3; it has app:1, app:2`,
    );
  });

  it('usage errors exit 2 before anything is read', async () => {
    expect((await extract('oci:')).code).toBe(2);
    expect((await extract(`oci:${join(work, 'good')}:bad ref`)).code).toBe(2);
    expect((await extract(`docker-archive:x.tar:app@sha256:${'a'.repeat(64)}`)).code).toBe(2);
    const article = await runCli(['extract', `oci:${join(work, 'good')}:1.0`, '--method', 'article'], {
      env: NO_ENGINE,
    });
    expect(article.exitCode).toBe(2);
  });
});
