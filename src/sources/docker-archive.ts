import { normalizeReference, parseReference } from '../reference.js';
import type { BlobStore } from './blob-store.js';
import { platformMatches } from './platform.js';
import { SourceError } from './source-error.js';
import {
  configPlatform,
  diffIdsOf,
  type ImageConfigDocument,
  readDocument,
  type SourceImage,
} from './source-image.js';
import type { FileSource } from './source-reference.js';

interface ArchiveItem {
  readonly Config?: string;
  readonly RepoTags?: string[] | null;
  readonly Layers?: string[];
}

/** Members named by their digest: OCI blobs (Engine 25+), `<id>.json` configs, Podman's `<digest>.tar` layers. */
const DIGEST_NAMED = /^(?:blobs\/sha256\/([0-9a-f]{64})|([0-9a-f]{64})\.(?:json|tar))$/;

/**
 * Reads the image a docker-archive (`docker save`, `podman save`) holds: manifest.json's item for the
 * `name:tag` or `@N` the user chose (the only one when none), its config, checked against the digest its
 * name carries, and its layers, each checked against the config's diff IDs as it streams.
 */
export async function readDockerArchive(
  store: BlobStore,
  source: FileSource,
  platform: string,
  platformGiven: boolean,
): Promise<SourceImage> {
  const where = store.label;
  const items = (await readDocument(store, 'manifest.json', undefined, 'manifest.json').catch((error) => {
    throw error instanceof SourceError && / lacks manifest\.json/.test(error.message)
      ? new SourceError(`archive ${where} is no docker-archive: it has no manifest.json`)
      : error;
  })) as ArchiveItem[];
  if (!Array.isArray(items)) throw new SourceError(`archive ${where}: manifest.json is not a list of images`);
  const item = chooseItem(items, source, where);
  const configName = item.Config ?? '';
  const configDigest = digestOf(configName);
  if (configDigest === undefined) {
    throw new SourceError(
      `archive ${where}: the config ${JSON.stringify(configName)} is not named by its digest, so it cannot be verified`,
    );
  }
  const config = (await readDocument(
    store,
    configName,
    configDigest,
    'the image config',
  )) as ImageConfigDocument;
  const layers = item.Layers ?? [];
  const diffIds = diffIdsOf(config, layers.length, where);
  const found = configPlatform(config);
  if (platformGiven && !platformMatches(config, platform)) {
    throw new SourceError(
      `archive ${where} holds an image for ${found}, not ${platform}; drop --platform or choose ${found}`,
    );
  }
  return {
    id: configDigest,
    platform: found,
    config: config.config ?? {},
    history: config.history,
    layers: layers.map((name, position) => {
      const digest = digestOf(name);
      return {
        name,
        diffId: diffIds[position] as string,
        // A Podman `<digest>.tar` is named by its diff ID; a blob by its stored (maybe compressed) bytes.
        ...(digest !== undefined && name.startsWith('blobs/') && { digest }),
      };
    }),
  };
}

function chooseItem(items: readonly ArchiveItem[], source: FileSource, where: string): ArchiveItem {
  const tags = items.flatMap((item) => item.RepoTags ?? []);
  const known = tags.length > 0 ? `it has ${tags.join(', ')}` : 'its images have no tags';
  if (source.ref === undefined) {
    if (items.length === 1) return items[0] as ArchiveItem;
    throw new SourceError(
      items.length === 0
        ? `archive ${where} holds no image (its manifest.json is empty)`
        : `archive ${where} holds ${items.length} images; choose one as docker-archive:PATH:NAME:TAG (${known}) or :@N`,
    );
  }
  if ('index' in source.ref) {
    const chosen = items[source.ref.index];
    if (chosen) return chosen;
    throw new SourceError(
      `archive ${where} has no image @${source.ref.index}: it holds ${items.length}, from @0`,
    );
  }
  const wanted = source.ref.name;
  const chosen = items.find((item) => (item.RepoTags ?? []).some((tag) => normalized(tag) === wanted));
  if (chosen) return chosen;
  throw new SourceError(`archive ${where} has no image ${wanted}; ${known}`);
}

function normalized(tag: string): string | undefined {
  try {
    return normalizeReference(parseReference(tag));
  } catch {
    return undefined;
  }
}

function digestOf(name: string): string | undefined {
  const match = DIGEST_NAMED.exec(name.replace(/^\.\//, ''));
  const hex = match?.[1] ?? match?.[2];
  return hex === undefined ? undefined : `sha256:${hex}`;
}
