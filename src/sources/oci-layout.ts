import type { BlobStore } from './blob-store.js';
import { compressionOf } from './decompress-layer.js';
import { type Platform, platformMatches, platformName } from './platform.js';
import { SourceError } from './source-error.js';
import {
  configPlatform,
  diffIdsOf,
  type ImageConfigDocument,
  readDocument,
  type SourceImage,
  type SourceLayer,
} from './source-image.js';
import type { FileSource } from './source-reference.js';
import { checkDigest } from './verify-digest.js';

export interface Descriptor {
  readonly mediaType?: string;
  readonly digest?: unknown;
  readonly size?: number;
  readonly urls?: string[];
  readonly platform?: Platform;
  readonly annotations?: Record<string, string>;
}

export interface IndexDocument {
  readonly manifests?: Descriptor[];
}

export interface ManifestDocument {
  readonly mediaType?: string;
  readonly config?: Descriptor;
  readonly layers?: Descriptor[];
}

const REF_NAME = 'org.opencontainers.image.ref.name';
export const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);
export const MANIFEST_TYPES = new Set([
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
]);
/** Indexes nest (an index of indexes); a real image needs one or two levels. */
const MAX_DEPTH = 4;

/**
 * Reads the image an OCI image layout holds (a folder, or an oci-archive unpacked): index.json, the ref the
 * user chose (the only image when none), an image index's manifest for `platform`, the manifest and config,
 * each document checked against the digest that names it.
 */
export async function readOciLayout(
  store: BlobStore,
  source: FileSource,
  platform: string,
  platformGiven: boolean,
): Promise<SourceImage> {
  const where = store.label;
  const layout = (await readDocument(store, 'oci-layout', undefined, 'the oci-layout file').catch((error) => {
    throw error instanceof SourceError && / lacks oci-layout/.test(error.message)
      ? new SourceError(`${where} is not an OCI image layout: it has no oci-layout file`)
      : error;
  })) as { imageLayoutVersion?: unknown };
  if (typeof layout?.imageLayoutVersion !== 'string') {
    throw new SourceError(
      `${where} is not an OCI image layout: its oci-layout file names no imageLayoutVersion`,
    );
  }
  const index = (await readDocument(store, 'index.json', undefined, 'the index')) as IndexDocument;
  let descriptor = chooseManifest(index.manifests ?? [], source, where);
  for (let depth = 0; INDEX_TYPES.has(descriptor.mediaType ?? ''); depth++) {
    if (depth === MAX_DEPTH) throw new SourceError(`${where}: image indexes nest deeper than ${MAX_DEPTH}`);
    const nested = (await readBlob(store, descriptor, 'an image index')) as IndexDocument;
    descriptor = choosePlatform(nested.manifests ?? [], platform, where);
  }
  if (!MANIFEST_TYPES.has(descriptor.mediaType ?? '')) {
    throw new SourceError(
      `${where}: the chosen manifest has the media type ${JSON.stringify(descriptor.mediaType)}, which is no image manifest`,
    );
  }
  const manifest = (await readBlob(store, descriptor, 'the image manifest')) as ManifestDocument;
  if (!manifest.config) throw new SourceError(`${where}: the image manifest names no config`);
  const config = (await readBlob(store, manifest.config, 'the image config')) as ImageConfigDocument;
  return manifestImage(
    manifest,
    config,
    {
      id: checkDigest(manifest.config.digest, 'the config'),
      digest: checkDigest(descriptor.digest, 'the manifest'),
    },
    { where, platform, platformGiven },
  );
}

/** The image a manifest and its config describe, whatever held them: each layer with its diff ID, the platform checked. */
export function manifestImage(
  manifest: ManifestDocument,
  config: ImageConfigDocument,
  ids: { readonly id: string; readonly digest: string },
  { where, platform, platformGiven }: { where: string; platform: string; platformGiven: boolean },
): SourceImage {
  const layers = manifest.layers ?? [];
  const diffIds = diffIdsOf(config, layers.length, where);
  const found = configPlatform(config);
  if (platformGiven && !platformMatches(config, platform)) {
    throw new SourceError(
      `${where} holds an image for ${found}, not ${platform}; drop --platform or choose ${found}`,
    );
  }
  return {
    ...ids,
    platform: found,
    config: config.config ?? {},
    history: config.history,
    layers: layers.map((layer, position) => ociLayer(layer, diffIds[position] as string, position, where)),
  };
}

export function ociLayer(layer: Descriptor, diffId: string, position: number, where: string): SourceLayer {
  const what = `layer ${position + 1}`;
  const digest = checkDigest(layer.digest, `${what} in ${where}`);
  const mediaType = layer.mediaType ?? '';
  const compression = compressionOf(mediaType);
  if (compression === undefined) {
    throw new SourceError(
      `${what} in ${where} has the media type ${JSON.stringify(mediaType)}, which is no layer tar this tool reads`,
    );
  }
  const foreign = /nondistributable|foreign/.test(mediaType);
  return {
    name: blobName(digest),
    digest,
    diffId,
    compression,
    ...(foreign && { foreign: layer.urls ?? [] }),
  };
}

/** The index.json entry the user chose: by ref name, by position (`@N`), or the only one. */
function chooseManifest(manifests: readonly Descriptor[], source: FileSource, where: string): Descriptor {
  const refs = manifests.map((m) => m.annotations?.[REF_NAME]).filter((ref) => ref !== undefined);
  const known = refs.length > 0 ? `it has ${refs.map((r) => JSON.stringify(r)).join(', ')}` : 'it names none';
  if (source.ref === undefined) {
    if (manifests.length === 1) return manifests[0] as Descriptor;
    throw new SourceError(
      manifests.length === 0
        ? `${where} holds no image (its index.json lists no manifests)`
        : `${where} holds ${manifests.length} images; choose one as ${source.transport}:PATH:REF (${known}) or :@N`,
    );
  }
  if ('index' in source.ref) {
    const chosen = manifests[source.ref.index];
    if (chosen) return chosen;
    throw new SourceError(
      `${where} has no image @${source.ref.index}: it holds ${manifests.length}, from @0`,
    );
  }
  const name = source.ref.name;
  const chosen = manifests.filter((m) => m.annotations?.[REF_NAME] === name);
  if (chosen.length === 1) return chosen[0] as Descriptor;
  if (chosen.length > 1)
    throw new SourceError(`${where} names ${chosen.length} images ${JSON.stringify(name)}`);
  throw new SourceError(`${where} has no image ${JSON.stringify(name)}; ${known}`);
}

/** An image index's manifest for `platform`; attestations (unknown/unknown) never count. */
export function choosePlatform(
  manifests: readonly Descriptor[],
  platform: string,
  where: string,
): Descriptor {
  const chosen = manifests.find((m) => platformMatches(m.platform, platform));
  if (chosen) return chosen;
  const offered = manifests.map((m) => platformName(m.platform)).filter((name) => name !== 'unknown/unknown');
  throw new SourceError(
    `the image index in ${where} has no image for ${platform}; it has ${offered.join(', ') || 'none'}; choose one with --platform`,
  );
}

async function readBlob(store: BlobStore, descriptor: Descriptor, what: string): Promise<unknown> {
  const digest = checkDigest(descriptor.digest, what);
  return readDocument(store, blobName(digest), digest, what);
}

function blobName(digest: string): string {
  return `blobs/${digest.replace(':', '/')}`;
}
