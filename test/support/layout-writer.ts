import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';

// Writes an OCI image layout from layer tars made by the test, so an image can be pushed to a registry
// (skopeo copy oci:…) with no engine: one image, or an index of several platforms.

export interface LayoutImage {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
  /** Uncompressed layer tars, lowest first. */
  readonly layers: readonly Buffer[];
  readonly config?: Readonly<Record<string, unknown>>;
}

export type LayerCompression = 'gzip' | 'zstd' | 'none';

const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  none: 'application/vnd.oci.image.layer.v1.tar',
} as const;

export function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Writes `images` into the layout `dir` under `ref`: an index when there are several. Returns the top digest. */
export async function writeImageLayout(
  dir: string,
  ref: string,
  images: readonly LayoutImage[],
  compression: LayerCompression,
): Promise<string> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const blob = async (bytes: Buffer) => {
    await writeFile(join(dir, 'blobs', 'sha256', sha256(bytes).slice(7)), bytes);
    return { digest: sha256(bytes), size: bytes.length };
  };
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  const manifests = [];
  for (const image of images) {
    const layers = [];
    for (const layer of image.layers)
      layers.push({ mediaType: MEDIA[compression], ...(await blob(await compress(layer, compression))) });
    const platform = {
      os: image.os,
      architecture: image.architecture,
      ...(image.variant && { variant: image.variant }),
    };
    const config = await blob(
      json({
        ...platform,
        created: '2000-01-01T00:00:00Z',
        config: image.config ?? {},
        rootfs: { type: 'layers', diff_ids: image.layers.map(sha256) },
      }),
    );
    const manifest = await blob(
      json({
        schemaVersion: 2,
        mediaType: MEDIA.manifest,
        config: { mediaType: MEDIA.config, ...config },
        layers,
      }),
    );
    manifests.push({ mediaType: MEDIA.manifest, ...manifest, platform });
  }
  const top =
    manifests.length === 1
      ? (manifests[0] as (typeof manifests)[number])
      : {
          mediaType: MEDIA.index,
          ...(await blob(json({ schemaVersion: 2, mediaType: MEDIA.index, manifests }))),
        };
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': ref } }],
    }),
  );
  return top.digest;
}

async function compress(layer: Buffer, compression: LayerCompression): Promise<Buffer> {
  if (compression === 'none') return layer;
  if (compression === 'gzip') return gzipSync(layer);
  const { stdout } = await execa('zstd', ['-q', '-c', '-3'], { input: layer, encoding: 'buffer' });
  return Buffer.from(stdout);
}

/** Pushes `oci:DIR:REF` to `docker://REMOTE` as it is (every platform of an index), as a user would with skopeo. */
export async function pushLayout(
  dir: string,
  ref: string,
  remote: string,
  options: { creds?: string; format?: 'v2s2' } = {},
): Promise<void> {
  await execa('skopeo', [
    'copy',
    '--quiet',
    '--all',
    ...(options.format ? ['--format', options.format] : ['--preserve-digests']),
    '--dest-tls-verify=false',
    ...(options.creds ? ['--dest-creds', options.creds] : []),
    `oci:${dir}:${ref}`,
    `docker://${remote}`,
  ]);
}
