import {
  choosePlatform,
  INDEX_TYPES,
  type IndexDocument,
  MANIFEST_TYPES,
  type ManifestDocument,
  manifestImage,
} from './oci-layout.js';
import type { RegistryClient } from './registry-client.js';
import type { RegistrySource } from './registry-reference.js';
import { SourceError } from './source-error.js';
import type { ImageConfigDocument, SourceImage } from './source-image.js';
import { checkDigest } from './verify-digest.js';

/** What a registry's manifest endpoint is asked for, best first: the docker CLI's list plus OCI's. */
const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];
const SCHEMA_1 = /^application\/vnd\.docker\.distribution\.manifest\.v1\+(?:prettyjws|json)$/;
const MAX_DEPTH = 4;

/** A registry image: what a file source says of its image, plus each layer's size as its manifest gives it. */
export interface RegistryImage extends SourceImage {
  readonly sizes: readonly (number | undefined)[];
}

/**
 * Reads an image from a registry: the manifest by tag or digest, an index's (or manifest list's) image for
 * `platform`, the manifest and config, each checked against the digest that names it. Foreign layers are
 * refused here, before anything is downloaded.
 */
export async function readRegistryImage(
  client: RegistryClient,
  source: RegistrySource,
  platform: string,
  platformGiven: boolean,
): Promise<RegistryImage> {
  const where = `docker://${client.image}`;
  let pulled = await client.manifest(source.digest ?? (source.tag as string), ACCEPT);
  for (let depth = 0; ; depth++) {
    const document = parse(pulled.bytes, where) as IndexDocument & ManifestDocument;
    const mediaType = document.mediaType ?? pulled.mediaType;
    if (SCHEMA_1.test(mediaType) || (document as { schemaVersion?: unknown }).schemaVersion === 1) {
      throw new SourceError(
        `${where} is an image manifest of schema 1, which registries have deprecated; push the image again with a current tool`,
      );
    }
    if (INDEX_TYPES.has(mediaType) || (Array.isArray(document.manifests) && !document.config)) {
      if (depth === MAX_DEPTH) throw new SourceError(`${where}: image indexes nest deeper than ${MAX_DEPTH}`);
      const chosen = choosePlatform(document.manifests ?? [], platform, where);
      pulled = await client.manifest(
        checkDigest(chosen.digest, `the manifest for ${platform} in ${where}`),
        ACCEPT,
      );
      continue;
    }
    if (!MANIFEST_TYPES.has(mediaType) && !document.config) {
      throw new SourceError(
        `${where}: the registry sent a document of the media type ${JSON.stringify(mediaType)}, which is no image manifest or index`,
      );
    }
    return imageOf(client, document, pulled.digest, where, platform, platformGiven);
  }
}

async function imageOf(
  client: RegistryClient,
  manifest: ManifestDocument,
  digest: string,
  where: string,
  platform: string,
  platformGiven: boolean,
): Promise<RegistryImage> {
  if (!manifest.config) throw new SourceError(`${where}: the image manifest names no config`);
  const configDigest = checkDigest(manifest.config.digest, `the config in ${where}`);
  const config = parse(
    await client.smallBlob(configDigest, 'the image config'),
    where,
  ) as ImageConfigDocument;
  const image = manifestImage(
    manifest,
    config,
    { id: configDigest, digest },
    { where, platform, platformGiven },
  );
  for (const [position, layer] of image.layers.entries()) {
    if (layer.foreign) {
      throw new SourceError(
        `layer ${position + 1} of ${where} is a foreign (non-distributable) layer${layer.foreign.length > 0 ? ` kept at ${layer.foreign.join(', ')}` : ''}, not in the registry; this tool does not fetch foreign layers: copy the image with them (skopeo copy --preserve-digests) into a layout and dump oci:DIR`,
      );
    }
  }
  return {
    ...image,
    sizes: (manifest.layers ?? []).map((layer) =>
      typeof layer.size === 'number' && layer.size >= 0 ? layer.size : undefined,
    ),
  };
}

function parse(bytes: Buffer, where: string): unknown {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new Error('not a JSON object');
    return value;
  } catch (error) {
    throw new SourceError(
      `${where}: the registry sent a document that is not JSON (${(error as Error).message})`,
      {
        cause: error,
      },
    );
  }
}
