import { createCipheriv, createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import tar from 'tar-stream';

/** Every benchmark image carries this label; its value is the hash of the recipe that made it. */
export const BENCH_LABEL = 'dev.distroless-contents.bench';
const RECIPE_VERSION = 1;
const MTIME = new Date(1700000000 * 1000);

/**
 * Benchmark images: two layers written here and loaded with `docker load` (no registry). The lower layer is
 * a tree of `files` regular files totalling about `bytes`, plus symlinks and hardlinks; the upper one
 * deletes a tenth of the files (single whiteouts and whole directories), makes one directory opaque,
 * replaces and adds files. Sizes are skewed like a real root filesystem: most files small, a few large.
 */
export function benchSpec(name, { bytes, files, smallOnly = false }) {
  return { name, bytes, files, smallOnly, tag: `distroless-contents-bench/${name}:latest` };
}

/** Builds the image unless one with the same recipe is there; returns its ID. */
export async function ensureBenchImage(spec, { log = console.error } = {}) {
  const recipe = createHash('sha256')
    .update(JSON.stringify({ RECIPE_VERSION, ...spec }))
    .digest('hex');
  const existing = await execa('docker', ['image', 'inspect', '--format', '{{json .}}', spec.tag], {
    reject: false,
  });
  if (existing.exitCode === 0) {
    const image = JSON.parse(existing.stdout);
    if (image.Config?.Labels?.[BENCH_LABEL] === recipe) return image.Id;
  }
  log(`bench: building ${spec.tag} (${(spec.bytes / 1e6).toFixed(0)} MB, ${spec.files} files)`);
  const work = await mkdtemp(join(tmpdir(), 'distroless-contents-bench-'));
  try {
    const layers = planLayers(spec);
    const written = [];
    for (const [index, entries] of layers.entries()) {
      const file = join(work, `layer-${index}.tar`);
      written.push({ file, diffId: await writeLayer(entries, file) });
    }
    const archive = join(work, 'image.tar');
    await writeArchive(archive, spec.tag, written, { [BENCH_LABEL]: recipe });
    await execa('docker', ['load', '--quiet', '--input', archive]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const { stdout } = await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', spec.tag]);
  return stdout.trim();
}

/** Removes every benchmark image (by label). */
export async function removeBenchImages() {
  const { stdout } = await execa('docker', ['images', '-q', '--filter', `label=${BENCH_LABEL}`]);
  const ids = [...new Set(stdout.split('\n').filter(Boolean))];
  if (ids.length > 0) await execa('docker', ['image', 'rm', '--force', ...ids], { reject: false });
}

/** A small deterministic generator (mulberry32), so every build of a recipe holds the same tree. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function planLayers(spec) {
  const next = random(42);
  const dirsPerTop = 12;
  const filesPerDir = 40;
  const dirCount = Math.max(1, Math.ceil(spec.files / filesPerDir));
  const dirs = Array.from(
    { length: dirCount },
    (_, i) => `usr/share/pkg${Math.floor(i / dirsPerTop)}/d${i % dirsPerTop}`,
  );
  // Skewed sizes: weights from a heavy-tailed draw, scaled so the files add up to `bytes`.
  const weights = Array.from({ length: spec.files }, () => (spec.smallOnly ? 1 : Math.exp(next() * 9)));
  const total = weights.reduce((a, b) => a + b, 0);
  const files = weights.map((weight, i) => ({
    path: `${dirs[i % dirCount]}/f${i}.bin`,
    size: Math.max(1, Math.round((weight / total) * spec.bytes)),
    seed: i,
  }));
  const lower = [];
  const made = new Set();
  const dir = (path) => {
    const parts = path.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (!made.has(p)) {
        made.add(p);
        lower.push({ name: `${p}/`, type: 'directory', mode: 0o755 });
      }
    }
  };
  for (const file of files) {
    dir(file.path.slice(0, file.path.lastIndexOf('/')));
    lower.push({ name: file.path, type: 'file', mode: 0o644, size: file.size, seed: file.seed });
  }
  for (let i = 0; i < files.length; i += 50) {
    lower.push({ name: `${files[i]?.path}.link`, type: 'symlink', linkname: `f${i}.bin`, mode: 0o777 });
  }
  for (let i = 7; i < files.length; i += 200) {
    lower.push({ name: `${files[i]?.path}.hard`, type: 'link', linkname: files[i]?.path, mode: 0o644 });
  }

  // Upper layer: whiteouts of single files and of two whole directories, an opaque directory, replacements.
  const upper = [];
  const listed = new Set();
  const upperDir = (path) => {
    const parts = path.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (!listed.has(p)) {
        listed.add(p);
        upper.push({ name: `${p}/`, type: 'directory', mode: 0o755 });
      }
    }
  };
  const parentOf = (path) => path.slice(0, path.lastIndexOf('/'));
  const baseOf = (path) => path.slice(path.lastIndexOf('/') + 1);
  const goneDirs = [dirs[1], dirs[2]].filter((d) => d !== undefined && d !== dirs[0]);
  for (const gone of goneDirs) {
    upperDir(parentOf(gone));
    upper.push({ name: `${parentOf(gone)}/.wh.${baseOf(gone)}`, type: 'file', mode: 0o644, size: 0 });
  }
  const opaque = dirs[3];
  if (opaque && !goneDirs.includes(opaque)) {
    upperDir(opaque);
    upper.push({ name: `${opaque}/.wh..wh..opq`, type: 'file', mode: 0o644, size: 0 });
    upper.push({ name: `${opaque}/fresh.bin`, type: 'file', mode: 0o644, size: 4096, seed: 1e9 });
  }
  const skip = new Set([...goneDirs, opaque]);
  let seed = 2e9;
  for (let i = 0; i < files.length; i++) {
    const file = files[i];
    const parent = parentOf(file.path);
    if (skip.has(parent)) continue;
    if (i % 10 === 5) {
      upperDir(parent);
      upper.push({ name: `${parent}/.wh.${baseOf(file.path)}`, type: 'file', mode: 0o644, size: 0 });
    } else if (i % 20 === 3) {
      upperDir(parent);
      upper.push({
        name: file.path,
        type: 'file',
        mode: 0o600,
        size: Math.ceil(file.size / 2),
        seed: seed++,
      });
    }
  }
  upperDir('opt/app');
  for (let i = 0; i < Math.max(1, files.length / 50); i++) {
    upper.push({ name: `opt/app/new${i}.bin`, type: 'file', mode: 0o644, size: 8192, seed: seed++ });
  }
  return [lower, upper];
}

/** Incompressible, deterministic content: AES-CTR keystream of the seed. */
function content(seed, size) {
  const key = createHash('sha256').update(`bench-${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return cipher.update(Buffer.alloc(size));
}

async function writeLayer(entries, file) {
  const pack = tar.pack();
  const hash = createHash('sha256');
  const written = pipeline(
    pack,
    async function* (source) {
      for await (const chunk of source) {
        hash.update(chunk);
        yield chunk;
      }
    },
    createWriteStream(file),
  );
  for (const { seed, size, ...header } of entries) {
    const full = { uid: 0, gid: 0, mtime: MTIME, ...header };
    await new Promise((resolve, reject) => {
      const done = (error) => (error ? reject(error) : resolve());
      if (header.type === 'file') pack.entry(full, size ? content(seed, size) : Buffer.alloc(0), done);
      else pack.entry(full, done);
    });
  }
  pack.finalize();
  await written;
  return `sha256:${hash.digest('hex')}`;
}

async function writeArchive(file, tag, layers, labels) {
  const config = Buffer.from(
    JSON.stringify({
      architecture: (await execa('docker', ['version', '--format', '{{.Server.Arch}}'])).stdout.trim(),
      os: 'linux',
      created: MTIME.toISOString(),
      config: { Labels: labels, Cmd: ['/nothing'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layers.map(() => ({ created: MTIME.toISOString(), created_by: 'distroless-contents bench' })),
    }),
  );
  const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
  const layerName = (l) => `${l.diffId.slice('sha256:'.length)}/layer.tar`;
  const manifest = Buffer.from(
    JSON.stringify([{ Config: configName, RepoTags: [tag], Layers: layers.map(layerName) }]),
  );
  const pack = tar.pack();
  const written = pipeline(pack, createWriteStream(file));
  const { createReadStream, statSync } = await import('node:fs');
  for (const layer of layers) {
    await pipeline(
      createReadStream(layer.file),
      pack.entry({ name: layerName(layer), size: statSync(layer.file).size }),
    );
  }
  for (const [name, data] of [
    [configName, config],
    ['manifest.json', manifest],
  ]) {
    await new Promise((resolve, reject) => pack.entry({ name }, data, (e) => (e ? reject(e) : resolve())));
  }
  pack.finalize();
  await written;
}
