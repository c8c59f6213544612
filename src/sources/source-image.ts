import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from './blob-store.js';
import type { Compression } from './decompress-layer.js';
import { SourceError } from './source-error.js';
import { checkDigest, verifyDigest } from './verify-digest.js';

/** One layer of an image read from a file source, lowest first. */
export interface SourceLayer {
  /** Its member in the layout or archive. */
  readonly name: string;
  /** The digest of its bytes as stored, when the index or manifest gives one. */
  readonly digest?: string;
  /** The digest of its uncompressed tar (the config's rootfs.diff_ids). */
  readonly diffId: string;
  /** As its media type says; undefined where there is none (docker-archive): the first bytes decide. */
  readonly compression?: Compression;
  /** A foreign or non-distributable layer: where it lives instead, if the manifest says. */
  readonly foreign?: readonly string[];
}

/** The image config's runtime part (`config` in the image spec). */
export interface RuntimeConfig {
  readonly User?: string;
  readonly WorkingDir?: string;
  readonly Env?: string[] | null;
  readonly Entrypoint?: string[] | string | null;
  readonly Cmd?: string[] | string | null;
}

/** What a file source says of its image: what the engine's inspect says of an engine image. */
export interface SourceImage {
  /** The config's digest: the image ID. */
  readonly id: string;
  /** The manifest's digest, where there is a manifest (OCI layouts). */
  readonly digest?: string;
  readonly platform: string;
  readonly config: RuntimeConfig;
  readonly layers: readonly SourceLayer[];
  /** The config's `history`, as the config has it (checked where it is read). */
  readonly history?: unknown;
}

/** The image config as far as this tool reads it. */
export interface ImageConfigDocument {
  readonly os?: string;
  readonly architecture?: string;
  readonly variant?: string;
  readonly config?: RuntimeConfig | null;
  readonly rootfs?: { readonly type?: string; readonly diff_ids?: unknown };
  readonly history?: unknown;
}

const MAX_JSON = 16 * 1024 * 1024;

/** A JSON document of the source, its digest checked when one is known. */
export async function readDocument(
  store: BlobStore,
  name: string,
  digest: string | undefined,
  what: string,
): Promise<unknown> {
  let stream: Readable = await store.open(name);
  if (digest !== undefined) {
    const verify = verifyDigest(digest, `${what} (${name} in ${store.label})`);
    // Iterating `verify` sees the source's errors too: the pipeline destroys it with them.
    pipeline(stream, verify).catch(() => {});
    stream = verify;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > MAX_JSON) throw new SourceError(`${what} in ${store.label} is larger than ${MAX_JSON} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new SourceError(`${what} (${name} in ${store.label}) is not JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** The platform a config names, `os/architecture[/variant]`. */
export function configPlatform(config: ImageConfigDocument): string {
  return [config.os, config.architecture, config.variant].filter(Boolean).join('/');
}

/** The config's diff IDs, checked against the manifest's count of layers. */
export function diffIdsOf(config: ImageConfigDocument, layers: number, where: string): string[] {
  const ids = config.rootfs?.diff_ids;
  if (!Array.isArray(ids)) throw new SourceError(`the image config in ${where} lists no rootfs.diff_ids`);
  if (ids.length !== layers) {
    throw new SourceError(
      `${where}: the manifest lists ${layers} layers but the config ${ids.length} diff IDs`,
    );
  }
  return ids.map((id, index) => checkDigest(id, `diff ID ${index + 1} in ${where}`));
}
