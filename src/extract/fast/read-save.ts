import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { type Duplex, type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { decompressLayer } from '../../sources/decompress-layer.js';
import { zstdDecompress } from './zstd-stream.js';

/** A save whose manifest names a layer it holds no bytes for: the engine skipped the blob (moby#49473). */
export class MissingLayerError extends Error {
  constructor(readonly member: string) {
    super(`docker save lists layer ${member} but does not contain it`);
  }
}

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

const LEGACY_LAYER = /^([0-9a-f]{64})\/layer\.tar$/;
const LEGACY_JSON = /^([0-9a-f]{64})\/json$/;
/** The image config of a legacy save (and Podman's), named by its digest at the top. */
const CONFIG_JSON = /^[0-9a-f]{64}\.json$/;
/** Members named by their digest: OCI blobs, and the layers Podman's docker-archive keeps at its top. */
const DIGEST_NAMED = /^(?:blobs\/sha256\/([0-9a-f]{64})|([0-9a-f]{64})\.tar)$/;
const MAX_JSON = 16 * 1024 * 1024;
/** A zstd frame's first four bytes, little-endian. */
const ZSTD_MAGIC = 0xfd2fb528;
/** Links to links are followed this far; a save has no reason to chain them at all. */
const MAX_LINK_HOPS = 8;

/** What the save says of the image besides its layers. */
export interface SavedImage {
  /** The image config document (its `history` names the layers' steps); undefined when the save has none. */
  readonly config: unknown;
}

/** A layer applied so far: the member that held its bytes, and its v1 ID when its parent chain chose it. */
interface Applied {
  readonly member: string;
  readonly legacyId?: string;
}

/**
 * Reads a `docker save` stream and hands its layers to `apply` in order, lowest first, streaming each layer
 * straight through when its turn has come and spilling it to `spillDir` otherwise.
 *
 * Engine 20.10 writes the legacy layout in lexical order: `<id>/json` (which names the parent) comes before
 * `<id>/layer.tar`, so a layer whose parent is applied can stream. Engines 25+ write an OCI layout whose
 * manifests come last; a blob streams when its digest is the next diff ID (an uncompressed layer), the rest
 * spill (compressed blobs from the containerd store: gzip, or zstd through the zstd command). Podman (containers/
 * image) writes each layer once at the top as `<digest>.tar`, first, and `<id>/layer.tar` as a symlink to
 * it. A layer member that is a link (symlink or hardlink, before or after its target) stands for the member
 * it names; manifest.json, which comes last, has the final word on the order.
 */
export async function readSave(archive: Readable, options: ReadSaveOptions): Promise<SavedImage> {
  const { diffIds, spillDir, signal } = options;
  // A layer listed twice is saved once (or as a link to the first): keep every layer on disk then.
  const spillAll = new Set(diffIds).size !== diffIds.length;
  const applied: Applied[] = [];
  const parents = new Map<string, string | null>();
  /** Layer members whose bytes wait on disk, by member name. */
  const spilled = new Map<string, string>();
  /** Link members, by name: the member each names. */
  const links = new Map<string, string>();
  const documents = new Map<string, unknown>();
  let spillReady = false;

  const resolve = (name: string): string => {
    let target = name;
    for (let hops = 0; links.has(target); hops++) {
      if (hops === MAX_LINK_HOPS) throw new Error(`docker save member ${name} links in a loop`);
      target = links.get(target) as string;
    }
    return target;
  };
  // Each layer's uncompressed bytes must be the image's own (their sha256 is its diff ID): a damaged or
  // mismatched blob is an error, never a silently different dump.
  const apply = async (layer: Readable, next: Applied) => {
    const index = applied.length;
    const hash = createHash('sha256');
    const hashed = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    // The consumer's pipeline sees any error: this one destroys `hashed` with it.
    pipeline(layer, hashed).catch(() => {});
    await options.apply(hashed, index);
    const digest = `sha256:${hash.digest('hex')}`;
    if (digest !== diffIds[index]) {
      throw new Error(
        `layer ${index + 1} of docker save is not the image's (its bytes hash to ${digest}, the image names ${diffIds[index]}); check the engine (docker info) and retry`,
      );
    }
    applied.push(next);
  };
  const spill = async (name: string, body: Readable) => {
    if (!spillReady) await mkdir(spillDir, { recursive: true });
    spillReady = true;
    // Named by count, never by the member: the file name is ours.
    const file = join(spillDir, `layer-${spilled.size}`);
    await pipeline(body, createWriteStream(file), ...(signal ? [{ signal }] : []));
    spilled.set(name, file);
  };
  // Two ways to know the next layer, each sure of its answer: a member named by the next diff ID holds it
  // (uncompressed, its digest is the diff ID), and so does the layer whose v1 parent is the last one applied
  // by its parent chain. A layer applied by digest has no v1 ID, so the chains never build on a guess.
  const isNext = (name: string, legacyId: string | undefined): boolean => {
    const next = applied.length;
    if (next >= diffIds.length) return false;
    if (`sha256:${digestOf(name)}` === diffIds[next]) return true;
    if (legacyId === undefined || !parents.has(legacyId)) return false;
    const parent = parents.get(legacyId);
    return next === 0 ? parent === null : parent != null && parent === applied[next - 1]?.legacyId;
  };
  // Applies the spilled layers whose turn has come, as long as there are any.
  const drain = async () => {
    for (let progressed = true; progressed; ) {
      progressed = false;
      const named = [
        ...spilled.keys(),
        ...links.keys(),
        ...[...parents.keys()].map((id) => `${id}/layer.tar`),
      ];
      for (const name of named) {
        const legacyId = LEGACY_LAYER.exec(name)?.[1];
        const file = spilled.get(resolve(name));
        if (!file || !isNext(name, legacyId)) continue;
        await apply(await openLayer(file), { member: resolve(name), ...(legacyId && { legacyId }) });
        progressed = true;
        break;
      }
    }
  };

  await pipeline(
    archive,
    tar.extract() as unknown as Duplex,
    async (members: AsyncIterable<Entry>) => {
      for await (const member of members) {
        const { type } = member.header;
        const name = memberName(member.header.name);
        const legacyJson = LEGACY_JSON.exec(name);
        const isLayer = LEGACY_LAYER.test(name) || DIGEST_NAMED.test(name);
        if (isLayer && (spilled.has(name) || links.has(name) || applied.some((a) => a.member === name))) {
          throw new Error(`docker save holds ${name} twice`);
        }
        if (legacyJson && type === 'file') {
          const config = (await readJson(member, name)) as { parent?: string };
          parents.set(legacyJson[1] as string, config.parent ?? null);
        } else if (isLayer && (type === 'symlink' || type === 'link')) {
          // A symlink names a member relative to its own folder, a hardlink from the top of the archive.
          const linkname = member.header.linkname ?? '';
          const target = memberName(
            type === 'symlink' ? posix.join(posix.dirname(name), linkname) : linkname,
          );
          if (!LEGACY_LAYER.test(target) && !DIGEST_NAMED.test(target)) {
            throw new Error(`docker save member ${name} links to ${target}, which is no layer`);
          }
          links.set(name, target);
          member.resume();
        } else if (isLayer && type === 'file') {
          const legacyId = LEGACY_LAYER.exec(name)?.[1];
          if (!spillAll && isNext(name, legacyId)) {
            await apply(member, { member: name, ...(legacyId && { legacyId }) });
          } else await spill(name, member);
        } else if (
          (name === 'manifest.json' || name === 'index.json' || CONFIG_JSON.test(name)) &&
          type === 'file'
        ) {
          documents.set(name, await readJson(member, name));
        } else {
          member.resume();
        }
        await drain();
      }
    },
    ...(signal ? [{ signal }] : []),
  );

  const saved = await layerOrder(documents, (name) => spilled.get(resolve(name)));
  const order = saved.layers.map(resolve);
  if (order.length !== diffIds.length) {
    throw new Error(`docker save lists ${order.length} layers but the image has ${diffIds.length}`);
  }
  for (const [index, name] of order.entries()) {
    if (index < applied.length) {
      if (applied[index]?.member !== name)
        throw new Error(`docker save's layer order does not match the layers' parents`);
      continue;
    }
    const file = spilled.get(name);
    if (!file) {
      const link = [...links].find(([, target]) => resolve(target) === name);
      if (link) throw new Error(`docker save member ${link[0]} links to ${link[1]}, which is no layer`);
      throw new MissingLayerError(name);
    }
    await apply(await openLayer(file), { member: name });
  }
  return { config: await saveConfig(saved.config, documents, (name) => spilled.get(resolve(name))) };
}

/** A member's name as the save's manifests write it: no `./`, no trailing slash. */
function memberName(name: string): string {
  return posix.normalize(name).replace(/^\.\/|\/$/g, '');
}

function digestOf(name: string): string | undefined {
  const match = DIGEST_NAMED.exec(name);
  return match?.[1] ?? match?.[2];
}

/** The config the save's manifest names: a top-level document already read, or a spilled OCI blob. */
async function saveConfig(
  name: string | undefined,
  documents: Map<string, unknown>,
  spilledFile: (name: string) => string | undefined,
): Promise<unknown> {
  if (name === undefined) return undefined;
  if (documents.has(name)) return documents.get(name);
  const file = spilledFile(name);
  return file === undefined ? undefined : readJsonFile(file);
}

/**
 * Layer member names lowest first, and the config's member: from manifest.json (every engine writes one),
 * else from the OCI index, whose manifests are read from the spilled blobs (`spilledFile`).
 */
async function layerOrder(
  documents: Map<string, unknown>,
  spilledFile: (name: string) => string | undefined,
): Promise<{ layers: string[]; config?: string }> {
  const manifest = documents.get('manifest.json') as { Layers?: string[]; Config?: unknown }[] | undefined;
  if (manifest) {
    if (manifest.length !== 1 || !manifest[0]?.Layers) {
      throw new Error(`docker save wrote ${manifest.length} images; expected exactly one`);
    }
    const layers = manifest[0].Layers.map((layer) => {
      const name = memberName(layer);
      if (!LEGACY_LAYER.test(name) && !DIGEST_NAMED.test(name)) {
        throw new Error(`docker save's manifest names an unknown layer ${layer}`);
      }
      return name;
    });
    const config = manifest[0].Config;
    return { layers, ...(typeof config === 'string' && { config: memberName(config) }) };
  }
  type OciDocument = {
    manifests?: { digest: string; platform?: { os?: string } }[];
    layers?: { digest: string }[];
    config?: { digest?: unknown };
  };
  const blobName = (digest: string) => `blobs/sha256/${digest.replace(/^sha256:/, '')}`;
  let document = documents.get('index.json') as OciDocument | undefined;
  for (let depth = 0; document?.manifests && depth < 4; depth++) {
    // The containerd image store adds attestation manifests for the platform unknown/unknown.
    const chosen = document.manifests.find((m) => m.platform?.os !== 'unknown');
    const file = chosen && spilledFile(blobName(chosen.digest));
    document = file ? ((await readJsonFile(file)) as OciDocument) : undefined;
  }
  if (!document?.layers) throw new Error('docker save wrote neither manifest.json nor a usable index.json');
  const config = document.config?.digest;
  return {
    layers: document.layers.map((layer) => blobName(layer.digest)),
    ...(typeof config === 'string' && { config: blobName(config) }),
  };
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
  if (head.readUInt32LE(0) === ZSTD_MAGIC) return zstdDecompress(createReadStream(file));
  const stream = createReadStream(file, { highWaterMark: 256 * 1024 });
  if (head[0] !== 0x1f || head[1] !== 0x8b) return stream;
  return decompressLayer(stream, 'gzip');
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
