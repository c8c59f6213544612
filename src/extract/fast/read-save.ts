import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import tar from 'tar-stream';

/** A member of the save: its header, and a stream of its bytes. */
type Entry = Readable & { readonly header: tar.Header };

export interface ReadSaveOptions {
  /** The image's layer diff IDs, lowest first (inspect's RootFS.Layers). */
  readonly diffIds: readonly string[];
  /** Where layers that arrive before their turn wait: a folder beside the output, on the same filesystem. */
  readonly spillDir: string;
  /** Applies one uncompressed layer tar; called once per layer, lowest first. */
  readonly apply: (layer: Readable, index: number) => Promise<void>;
  readonly signal?: AbortSignal | undefined;
}

const LEGACY_MEMBER = /^([0-9a-f]{64})\/(json|layer\.tar)$/;
const BLOB_MEMBER = /^blobs\/sha256\/([0-9a-f]{64})$/;
const MAX_JSON = 16 * 1024 * 1024;

/**
 * Reads a `docker save` stream and hands its layers to `apply` in order, lowest first, streaming each layer
 * straight through when its turn has come and spilling it to `spillDir` otherwise.
 *
 * Engine 20.10 writes the legacy layout in lexical order: `<id>/json` (which names the parent) comes before
 * `<id>/layer.tar`, so a layer whose parent is applied can stream. Engines 25+ write an OCI layout whose
 * manifests come last; a blob streams when its digest is the next diff ID (an uncompressed layer), the rest
 * spill (compressed blobs from the containerd store: gzip, or zstd where Node has it).
 */
export async function readSave(archive: Readable, options: ReadSaveOptions): Promise<void> {
  const { diffIds, spillDir, signal } = options;
  // A layer listed twice is saved once (or as a symlink to the first): keep every layer on disk then.
  const spillAll = new Set(diffIds).size !== diffIds.length;
  const applied: string[] = [];
  const parents = new Map<string, string | null>();
  const spilled = new Map<string, string>();
  const aliases = new Map<string, string>();
  const documents = new Map<string, unknown>();
  let spillReady = false;

  const apply = async (key: string, layer: Readable) => {
    await options.apply(layer, applied.length);
    applied.push(key);
  };
  const spill = async (key: string, body: Readable) => {
    if (!spillReady) await mkdir(spillDir, { recursive: true });
    spillReady = true;
    const file = join(spillDir, key);
    await pipeline(body, createWriteStream(file), ...(signal ? [{ signal }] : []));
    spilled.set(key, file);
  };
  // Legacy keys are v1 layer IDs; OCI keys are blob hex digests.
  const isNext = (key: string, kind: 'legacy' | 'blob') => {
    if (kind === 'blob') return `sha256:${key}` === diffIds[applied.length];
    const parent = parents.get(key);
    if (parent === undefined) return false;
    return applied.length === 0 ? parent === null : parent === applied[applied.length - 1];
  };
  const drainLegacy = async () => {
    for (let progressed = true; progressed; ) {
      progressed = false;
      for (const key of new Set([...spilled.keys(), ...aliases.keys()])) {
        if (applied.includes(key) || !isNext(key, 'legacy')) continue;
        const file = spilled.get(aliases.get(key) ?? key);
        if (!file) continue;
        await apply(key, await openLayer(file));
        progressed = true;
      }
    }
  };
  const drainBlobs = async () => {
    for (let hex = nextHex(); hex && spilled.has(hex); hex = nextHex()) {
      await apply(hex, await openLayer(spilled.get(hex) as string));
    }
  };
  const nextHex = () => diffIds[applied.length]?.replace(/^sha256:/, '');

  await pipeline(
    archive,
    tar.extract() as unknown as Duplex,
    async (members: AsyncIterable<Entry>) => {
      for await (const member of members) {
        const name = posix.normalize(member.header.name).replace(/^\.\/|\/$/g, '');
        const legacy = LEGACY_MEMBER.exec(name);
        const blob = BLOB_MEMBER.exec(name);
        if (legacy?.[2] === 'json' && member.header.type === 'file') {
          const config = (await readJson(member, name)) as { parent?: string };
          parents.set(legacy[1] as string, config.parent ?? null);
        } else if (legacy && member.header.type === 'symlink') {
          // Engine 20.10 saves a layer that repeats an earlier one as a symlink to it.
          const target = posix.normalize(posix.join(posix.dirname(name), member.header.linkname ?? ''));
          const targetId = LEGACY_MEMBER.exec(target)?.[1];
          if (!targetId) throw new Error(`docker save member ${name} links to ${target}, which is no layer`);
          aliases.set(legacy[1] as string, targetId);
          member.resume();
          await drainLegacy();
        } else if (legacy && member.header.type === 'file') {
          const id = legacy[1] as string;
          if (!spillAll && isNext(id, 'legacy')) await apply(id, member);
          else await spill(id, member);
          await drainLegacy();
        } else if (blob && member.header.type === 'file') {
          const hex = blob[1] as string;
          if (!spillAll && isNext(hex, 'blob')) await apply(hex, member);
          else await spill(hex, member);
          await drainBlobs();
        } else if ((name === 'manifest.json' || name === 'index.json') && member.header.type === 'file') {
          documents.set(name, await readJson(member, name));
        } else {
          member.resume();
        }
      }
    },
    ...(signal ? [{ signal }] : []),
  );

  const order = await layerOrder(documents, spilled);
  if (order.length !== diffIds.length) {
    throw new Error(`docker save lists ${order.length} layers but the image has ${diffIds.length}`);
  }
  for (const [index, key] of order.entries()) {
    if (index < applied.length) {
      if (applied[index] !== key)
        throw new Error(`docker save's layer order does not match the layers' parents`);
      continue;
    }
    const file = spilled.get(aliases.get(key) ?? key);
    if (!file) throw new Error(`docker save lists layer ${key} but does not contain it`);
    await apply(key, await openLayer(file));
  }
}

/** Layer keys lowest first: from manifest.json (every engine writes one), else from the OCI index. */
async function layerOrder(documents: Map<string, unknown>, spilled: Map<string, string>): Promise<string[]> {
  const manifest = documents.get('manifest.json') as { Layers?: string[] }[] | undefined;
  if (manifest) {
    if (manifest.length !== 1 || !manifest[0]?.Layers) {
      throw new Error(`docker save wrote ${manifest.length} images; expected exactly one`);
    }
    return manifest[0].Layers.map((layer) => {
      const name = posix.normalize(layer);
      const key = LEGACY_MEMBER.exec(name)?.[1] ?? BLOB_MEMBER.exec(name)?.[1];
      if (!key) throw new Error(`docker save's manifest names an unknown layer ${layer}`);
      return key;
    });
  }
  type OciDocument = {
    manifests?: { digest: string; platform?: { os?: string } }[];
    layers?: { digest: string }[];
  };
  let document = documents.get('index.json') as OciDocument | undefined;
  for (let depth = 0; document?.manifests && depth < 4; depth++) {
    // The containerd image store adds attestation manifests for the platform unknown/unknown.
    const chosen = document.manifests.find((m) => m.platform?.os !== 'unknown');
    const file = chosen && spilled.get(chosen.digest.replace(/^sha256:/, ''));
    document = file ? ((await readJsonFile(file)) as OciDocument) : undefined;
  }
  if (!document?.layers) throw new Error('docker save wrote neither manifest.json nor a usable index.json');
  return document.layers.map((layer) => layer.digest.replace(/^sha256:/, ''));
}

/** A spilled layer, decompressed when its first bytes say gzip or zstd. */
async function openLayer(file: string): Promise<Readable> {
  const head = Buffer.alloc(4);
  const handle = await open(file, 'r');
  try {
    await handle.read(head, 0, 4, 0);
  } finally {
    await handle.close();
  }
  let decompress: Duplex | undefined;
  if (head[0] === 0x1f && head[1] === 0x8b) decompress = zlib.createGunzip();
  else if (head.readUInt32LE(0) === 0xfd2fb528) {
    const zstd = (zlib as { createZstdDecompress?: () => Duplex }).createZstdDecompress;
    if (!zstd) {
      throw new Error(
        'the image has zstd-compressed layers, which this Node cannot read; use Node 22.15 or newer, or --method article',
      );
    }
    decompress = zstd();
  }
  const stream = createReadStream(file, { highWaterMark: 256 * 1024 });
  if (!decompress) return stream;
  // The consumer's pipeline sees any error: this one destroys the decompressor with it.
  pipeline(stream, decompress).catch(() => {});
  return decompress;
}

async function readJson(member: Readable, name: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of member) {
    size += (chunk as Buffer).length;
    if (size > MAX_JSON) throw new Error(`docker save member ${name} is larger than ${MAX_JSON} bytes`);
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function readJsonFile(file: string): Promise<unknown> {
  return readJson(createReadStream(file), file);
}
