import { UsageError } from '../errors.js';
import { parseReference } from '../reference.js';

/** An image in a registry, read over the distribution API with no engine: `docker://HOST/NAME:TAG|@DIGEST`. */
export interface RegistrySource {
  readonly transport: 'docker';
  /** Host and port as the user and `docker login` name it (`docker.io` for Docker Hub). */
  readonly registry: string;
  /** The repository below it, `library/` made explicit on Docker Hub. */
  readonly repository: string;
  /** The tag; `latest` when neither tag nor digest was given. */
  readonly tag?: string;
  /** When given, the manifest pulled must have this digest. */
  readonly digest?: string;
  /** What the user wrote. */
  readonly raw: string;
}

const PREFIX = 'docker://';
const DOCKER_HUB = 'docker.io';

/**
 * The registry source `raw` names, or undefined without the `docker://` prefix. The rest is an image
 * reference, normalised as the docker CLI and containers/image do (`docker://alpine` is Docker Hub's
 * library/alpine:latest).
 */
export function parseRegistrySource(raw: string): RegistrySource | undefined {
  if (!raw.startsWith(PREFIX)) return undefined;
  const rest = raw.slice(PREFIX.length);
  if (rest === '') {
    throw new UsageError(
      `"${PREFIX}" names no image; write ${PREFIX}HOST/NAME:TAG or ${PREFIX}HOST/NAME@DIGEST.`,
    );
  }
  const ref = parseReference(rest);
  if (ref.registry === undefined && /^sha256:[a-f0-9]{64}$/.test(ref.path)) {
    throw new UsageError(
      `${raw} is an image ID, which only an engine knows; name the image as ${PREFIX}HOST/NAME:TAG.`,
    );
  }
  const registry = ref.registry ?? DOCKER_HUB;
  const repository = registry === DOCKER_HUB && !ref.path.includes('/') ? `library/${ref.path}` : ref.path;
  const tag = ref.tag ?? (ref.digest === undefined ? 'latest' : undefined);
  return {
    transport: 'docker',
    registry,
    repository,
    ...(tag !== undefined && { tag }),
    ...(ref.digest !== undefined && { digest: ref.digest }),
    raw,
  };
}

/** How messages name the image: `HOST/NAME:TAG` or `HOST/NAME@DIGEST`, as the user would pull it. */
export function registryImageName(source: RegistrySource): string {
  return `${source.registry}/${source.repository}${source.tag !== undefined ? `:${source.tag}` : ''}${source.digest !== undefined ? `@${source.digest}` : ''}`;
}

/** The identity of a registry source, for batches: the normalised reference. */
export function registrySourceKey(source: RegistrySource): string {
  return `${PREFIX}${registryImageName(source)}`;
}
