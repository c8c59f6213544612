import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { normalizeReference, parseReference } from '../reference.js';
import { parseRegistrySource, registrySourceKey } from './registry-reference.js';

/** The transports read from files, spelled as containers/image (skopeo, Podman) spells them. */
export type FileTransport = 'oci' | 'oci-archive' | 'docker-archive';

/**
 * An image in a file or folder, no engine needed. `ref` chooses the image: an OCI layout's
 * `org.opencontainers.image.ref.name`, a docker-archive's `name:tag` (normalised), or `@N`, the zero-based
 * position in index.json or manifest.json; without one the file must hold exactly one image.
 */
export interface FileSource {
  readonly transport: FileTransport;
  /** Absolute path of the folder or archive. */
  readonly path: string;
  readonly ref?: { readonly name: string } | { readonly index: number };
  /** What the user wrote. */
  readonly raw: string;
}

const TRANSPORTS: readonly FileTransport[] = ['oci', 'oci-archive', 'docker-archive'];
// What containers/image accepts as an OCI ref name (oci/layout's refRegexp: the annotation's grammar).
const OCI_REF =
  /^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:\/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$/;

/** The file source `raw` names, or undefined when it has no file transport prefix (an engine reference). */
export function parseFileSource(raw: string): FileSource | undefined {
  const colon = raw.indexOf(':');
  const transport = TRANSPORTS.find((name) => raw.slice(0, colon) === name);
  if (colon < 0 || !transport) return undefined;
  // containers/image splits at the first colon after the transport: the path itself cannot hold one.
  const rest = raw.slice(colon + 1);
  const split = rest.indexOf(':');
  const path = split < 0 ? rest : rest.slice(0, split);
  const chooser = split < 0 ? undefined : rest.slice(split + 1);
  if (path === '') {
    throw new UsageError(
      `${quote(raw)} names no path; write ${transport}:PATH${transport === 'docker-archive' ? '[:name:tag]' : '[:ref]'}.`,
    );
  }
  const source = { transport, path: resolve(path), raw };
  if (chooser === undefined) return source;
  if (chooser === '') {
    throw new UsageError(`${quote(raw)} ends with ':'; give the image to choose after it, or drop the ':'.`);
  }
  const index = /^@(\d{1,6})$/.exec(chooser);
  if (index) return { ...source, ref: { index: Number(index[1]) } };
  if (transport === 'docker-archive') return { ...source, ref: { name: archiveTag(chooser, raw) } };
  if (!OCI_REF.test(chooser)) {
    throw new UsageError(
      `Invalid OCI ref ${quote(chooser)} in ${quote(raw)}: a ref name is letters and digits separated by one of - . _ : @ + / (or @N for the N-th image).`,
    );
  }
  return { ...source, ref: { name: chooser } };
}

/** A docker-archive chooses by `name:tag`, never a digest, compared in normalised form (as containers/image). */
function archiveTag(chooser: string, raw: string): string {
  const ref = parseReference(chooser);
  if (ref.digest !== undefined || /^sha256:/.test(ref.path)) {
    throw new UsageError(`${quote(raw)}: a docker-archive image is chosen by name:tag or @N, not by digest.`);
  }
  return normalizeReference(ref);
}

/** The identity of any source: a file source by its absolute path and choice, a registry or engine reference normalised. */
export function sourceKey(raw: string): string {
  const registry = parseRegistrySource(raw);
  if (registry) return registrySourceKey(registry);
  const file = parseFileSource(raw);
  if (!file) return normalizeReference(parseReference(raw));
  const ref = file.ref === undefined ? '' : 'name' in file.ref ? `:${file.ref.name}` : `:@${file.ref.index}`;
  return `${file.transport}:${file.path}${ref}`;
}

function quote(text: string): string {
  return JSON.stringify(text).replace(
    /[\u007f-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
