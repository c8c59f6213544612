import { UsageError } from './errors.js';

/** An image reference split along the distribution grammar: `[registry[:port]/]path[:tag][@digest]`. */
export interface ImageReference {
  /** Registry host (with port) when the reference names one, e.g. `gcr.io` or `localhost:5000`. */
  readonly registry?: string;
  /** Repository path without the registry, e.g. `distroless/static-debian12`. */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: string;
  /** The reference exactly as given. */
  readonly raw: string;
}

// The grammar of github.com/distribution/reference (regexp.go), anchored piece by piece.
const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const host = `(?:${domainName}|${ipv6})`;
const domain = `${host}(?::[0-9]+)?`;
const tag = '[\\w][\\w.-]{0,127}';
const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';

const referencePattern = new RegExp(
  `^(?:(${domain})/)?(${pathComponent}(?:/${pathComponent})*)(?::(${tag}))?(?:@(${digest}))?$`,
);
const imageIdPattern = /^sha256:[a-f0-9]{64}$/;
const NAME_TOTAL_LENGTH_MAX = 255;
const REFERENCE_LENGTH_MAX = 1024;

/**
 * Parses and validates an image reference, or a full image ID (`sha256:<64 hex>`).
 * Anything outside the grammar is refused, which is what makes the reference safe to write into a Dockerfile.
 */
export function parseReference(raw: string): ImageReference {
  if (imageIdPattern.test(raw)) return { path: raw, raw };
  // The length cap keeps the regular expression's work bounded on hostile input.
  const match = raw.length <= REFERENCE_LENGTH_MAX ? referencePattern.exec(raw) : null;
  if (!match) throw invalid(raw);
  let [, registry, path = '', tagPart, digestPart] = match;
  // A first component is a registry only when it looks like a host; otherwise it is part of the path
  // (`library/alpine`), exactly as the docker CLI decides.
  if (registry !== undefined && !/[.:]|^localhost$/.test(registry) && registry === registry.toLowerCase()) {
    path = `${registry}/${path}`;
    registry = undefined;
  }
  const name = registry === undefined ? path : `${registry}/${path}`;
  if (digestPart !== undefined && !verifiableDigest(digestPart)) {
    throw new UsageError(
      `Invalid digest in image reference ${quote(raw)}: expected sha256: and 64 lowercase hex digits (or sha384: 96, sha512: 128).`,
      { code: 'INVALID_REFERENCE' },
    );
  }
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw new UsageError(
      `Image name "${name.slice(0, 40)}…" is longer than ${NAME_TOTAL_LENGTH_MAX} characters.`,
      {
        code: 'INVALID_REFERENCE',
      },
    );
  }
  return {
    raw,
    path,
    ...(registry !== undefined && { registry }),
    ...(tagPart !== undefined && { tag: tagPart }),
    ...(digestPart !== undefined && { digest: digestPart }),
  };
}

/** The repository name (registry and path) without tag or digest. */
export function repositoryName(ref: ImageReference): string {
  return ref.registry === undefined ? ref.path : `${ref.registry}/${ref.path}`;
}

/** Hex digits of the digest algorithms the engine can verify (go-digest); it refuses any other digest. */
const DIGEST_LENGTHS: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

function verifiableDigest(digest: string): boolean {
  const [algorithm = '', encoded = ''] = digest.split(':');
  const length = DIGEST_LENGTHS[algorithm];
  return length !== undefined && encoded.length === length && /^[a-f0-9]+$/.test(encoded);
}

/** The input as a JSON string with non-ASCII escaped too: U+2028 and the like would break the line. */
function quote(raw: string): string {
  return JSON.stringify(raw).replace(
    /[\u007f-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function invalid(raw: string): UsageError {
  return new UsageError(
    `Invalid image reference ${quote(raw)}: expected [registry[:port]/]name[:tag][@digest] with a lowercase name, e.g. gcr.io/distroless/static-debian12:nonroot.`,
    { code: 'INVALID_REFERENCE' },
  );
}

/**
 * The reference the way the engine reads it: Docker Hub's registry and `library/` made explicit, `latest`
 * when neither tag nor digest is given. `alpine` and `docker.io/library/alpine:latest` normalise alike.
 */
export function normalizeReference(ref: ImageReference): string {
  if (ref.registry === undefined && /^sha256:[a-f0-9]{64}$/.test(ref.path)) return ref.path;
  const registry = ref.registry ?? 'docker.io';
  const path = registry === 'docker.io' && !ref.path.includes('/') ? `library/${ref.path}` : ref.path;
  const tag = ref.tag ?? (ref.digest ? undefined : 'latest');
  return `${registry}/${path}${tag ? `:${tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}
