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
const domainPattern = new RegExp(`^${domain}$`);
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
    throw invalid(raw);
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
  return JSON.stringify(raw.length > 100 ? `${raw.slice(0, 100)}…` : raw).replace(
    /[\u007f-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function invalid(raw: string): UsageError {
  const where = whereInvalid(raw);
  return new UsageError(
    `Invalid image reference ${quote(raw)}: ${where ? `${where}; ` : ''}expected [registry[:port]/]name[:tag][@digest] with a lowercase name, e.g. gcr.io/distroless/static-debian12:nonroot.`,
    { code: 'INVALID_REFERENCE' },
  );
}

/** Names the first place where `raw` leaves the grammar, and what the grammar wants there. */
export function whereInvalid(raw: string): string | undefined {
  if (raw === '') return 'it is empty';
  if (raw.length > REFERENCE_LENGTH_MAX)
    return `it has ${raw.length} characters, more than ${REFERENCE_LENGTH_MAX}`;
  const foreign = /[^a-zA-Z0-9._\-/:@[\]]/.exec(raw);
  if (foreign)
    return `character ${foreign.index + 1} is ${describeChar(foreign[0])}, which no reference may hold`;
  const at = raw.indexOf('@');
  if (at >= 0) {
    const digestPart = raw.slice(at + 1);
    const colon = digestPart.indexOf(':');
    const algorithm = colon < 0 ? digestPart : digestPart.slice(0, colon);
    const encoded = colon < 0 ? undefined : digestPart.slice(colon + 1);
    const length = DIGEST_LENGTHS[algorithm];
    if (encoded === undefined || length === undefined) {
      return `the digest after '@' (character ${at + 1}) must be sha256: followed by 64 hex digits (or sha384: 96, sha512: 128)`;
    }
    const nonHex = /[^a-f0-9]/.exec(encoded);
    if (nonHex) {
      return `character ${at + algorithm.length + 3 + nonHex.index} is ${describeChar(nonHex[0])}; a digest is lowercase hex`;
    }
    if (encoded.length !== length)
      return `the ${algorithm} digest has ${encoded.length} hex digits, not ${length}`;
  }
  const name = at >= 0 ? raw.slice(0, at) : raw;
  const tagColon = name.indexOf(':', name.lastIndexOf('/') + 1);
  if (tagColon >= 0) {
    const tagPart = name.slice(tagColon + 1);
    if (tagPart === '')
      return `nothing follows the ':' at character ${tagColon + 1}; a tag is 1 to 128 of A-Z a-z 0-9 _ . -`;
    if (!/^[\w]/.test(tagPart))
      return `character ${tagColon + 2} starts the tag with ${describeChar(tagPart[0] as string)}; a tag starts with a letter, digit or _`;
    const badTag = /[^\w.-]/.exec(tagPart);
    if (badTag)
      return `character ${tagColon + 2 + badTag.index} is ${describeChar(badTag[0])}, which a tag may not hold`;
    if (tagPart.length > 128) return `the tag has ${tagPart.length} characters, more than 128`;
  }
  const repository = tagColon >= 0 ? name.slice(0, tagColon) : name;
  const components = repository.split('/');
  let offset = 0;
  for (const [index, component] of components.entries()) {
    const domainLike = index === 0 && components.length > 1 && /[.:]|^localhost$|[A-Z]/.test(component);
    const problem = domainLike
      ? domainPattern.test(component)
        ? undefined
        : `the registry part ${quote(component)} is not a host name or [IPv6] address with an optional :port`
      : componentProblem(component, offset);
    if (problem) return problem;
    offset += component.length + 1;
  }
  return undefined;
}

function componentProblem(component: string, offset: number): string | undefined {
  if (component === '') {
    return `the name has an empty part at character ${offset + 1} (a leading, trailing or doubled '/')`;
  }
  const upper = /[A-Z]/.exec(component);
  if (upper)
    return `character ${offset + upper.index + 1} is uppercase '${upper[0]}'; repository names are lowercase`;
  if (!/^[a-z0-9]/.test(component)) {
    return `character ${offset + 1} is ${describeChar(component[0] as string)}; each part of the name starts with a lowercase letter or digit`;
  }
  if (!/[a-z0-9]$/.test(component)) {
    return `character ${offset + component.length} is ${describeChar(component.at(-1) as string)}; each part of the name ends with a lowercase letter or digit`;
  }
  const separator = /[._-]+/g;
  for (let match = separator.exec(component); match; match = separator.exec(component)) {
    if (!/^(?:[._]|__|-+)$/.test(match[0])) {
      return `characters ${offset + match.index + 1}-${offset + match.index + match[0].length} are '${match[0]}'; between letters and digits a name allows '.', '_', '__' or dashes`;
    }
  }
  if (/[:[\]]/.test(component))
    return `the name part at character ${offset + 1} holds ':' or brackets, which only a registry may`;
  return undefined;
}

function describeChar(char: string): string {
  if (char === ' ') return 'a space';
  if (/\s/.test(char)) return `whitespace (${quote(char)})`;
  const code = char.codePointAt(0) ?? 0;
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return `a control character (${quote(char)})`;
  return `'${code > 0x7e ? quote(char).slice(1, -1) : char}'`;
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
