import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

// Pushes hand-made images straight through the registry HTTP API (distribution spec), so a test can hold
// an image for a platform this machine cannot build or run, such as a multi-platform index with arm64.

export interface RegistryLogin {
  readonly host: string;
  readonly user: string;
  readonly password: string;
}

/** One image of an index: its platform and the files of its only layer (path -> content). */
export interface PlatformImage {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
  readonly files: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
}

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const MTIME = new Date('2000-01-01T00:00:00Z');

/** Pushes an OCI image index of `images` as `repository:tag`; returns each platform's manifest digest. */
export async function pushImageIndex(
  login: RegistryLogin,
  repository: string,
  tag: string,
  images: readonly PlatformImage[],
): Promise<Map<string, string>> {
  const registry = new RegistryClient(login, repository);
  const digests = new Map<string, string>();
  const entries = [];
  for (const image of images) {
    const layerTar = await tarOf(image.files);
    const layer = gzipSync(layerTar);
    const config = json({
      architecture: image.architecture,
      os: image.os,
      ...(image.variant && { variant: image.variant }),
      created: MTIME.toISOString(),
      config: { Labels: image.labels ?? {} },
      rootfs: { type: 'layers', diff_ids: [digestOf(layerTar)] },
      history: [{ created: MTIME.toISOString(), created_by: 'distroless-contents test: pushed by hand' }],
    });
    await registry.putBlob(layer);
    await registry.putBlob(config);
    const manifest = json({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: digestOf(config), size: config.length },
      layers: [{ mediaType: OCI_LAYER, digest: digestOf(layer), size: layer.length }],
    });
    const digest = await registry.putManifest(digestOf(manifest), manifest, OCI_MANIFEST);
    const platform = {
      os: image.os,
      architecture: image.architecture,
      ...(image.variant && { variant: image.variant }),
    };
    digests.set(Object.values(platform).join('/'), digest);
    entries.push({ mediaType: OCI_MANIFEST, digest, size: manifest.length, platform });
  }
  const index = json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: entries });
  await registry.putManifest(tag, index, OCI_INDEX);
  return digests;
}

class RegistryClient {
  readonly #base: string;
  readonly #authorization: string;

  constructor(login: RegistryLogin, repository: string) {
    this.#base = `http://${login.host}/v2/${repository}`;
    this.#authorization = `Basic ${Buffer.from(`${login.user}:${login.password}`).toString('base64')}`;
  }

  /** Monolithic upload: POST for an upload URL, then PUT the whole blob with its digest. */
  async putBlob(content: Buffer): Promise<void> {
    const started = await this.#request(`${this.#base}/blobs/uploads/`, { method: 'POST' }, 202);
    const location = started.headers.get('location');
    if (!location) throw new Error('registry gave no upload location');
    const url = new URL(location, this.#base);
    url.searchParams.set('digest', digestOf(content));
    await this.#request(
      url.href,
      { method: 'PUT', body: content, headers: { 'content-type': 'application/octet-stream' } },
      201,
    );
  }

  async putManifest(reference: string, content: Buffer, mediaType: string): Promise<string> {
    const response = await this.#request(
      `${this.#base}/manifests/${reference}`,
      { method: 'PUT', body: content, headers: { 'content-type': mediaType } },
      201,
    );
    return response.headers.get('docker-content-digest') ?? digestOf(content);
  }

  async #request(url: string, init: RequestInit, expected: number): Promise<Response> {
    const response = await fetch(url, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), authorization: this.#authorization },
    });
    if (response.status !== expected) {
      throw new Error(`${init.method} ${url}: HTTP ${response.status} ${await response.text()}`);
    }
    await response.body?.cancel();
    return response;
  }
}

async function tarOf(files: Readonly<Record<string, string>>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) {
    pack.entry({ name, mode: 0o644, uid: 0, gid: 0, mtime: MTIME }, content);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  await pipeline(pack as unknown as Readable, async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) chunks.push(chunk);
  });
  return Buffer.concat(chunks);
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function digestOf(content: Buffer): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}
