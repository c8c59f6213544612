import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { inspectImage } from '../docker/image.js';

/**
 * Every image the article's build makes carries this label: the hash of its Dockerfile, which names the
 * source and base image IDs, and of the platform. Two builds with the same key copy the same bytes, so an
 * image with the key can stand in for a new build.
 */
export const CACHE_LABEL = 'dev.distroless-contents.cache-key';

/** Kept images are tagged, so that clean-ups of interrupted runs (which take untagged images) spare them. */
export const CACHE_REPOSITORY = 'distroless-contents-cache';

export function cacheKey(dockerfile: string, platform: string | undefined): string {
  return createHash('sha256')
    .update(JSON.stringify({ dockerfile, platform: platform ?? null }))
    .digest('hex');
}

export function cacheTag(key: string): string {
  return `${CACHE_REPOSITORY}:${key}`;
}

/** The ID of a built image with this key that still exists, if any. */
export async function findCachedImage(
  docker: Docker,
  key: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const filters = JSON.stringify({ label: [`${CACHE_LABEL}=${key}`] });
  for (const image of await docker.listImages({ filters })) {
    // Listed a moment ago is not enough: a concurrent clean-up may have removed it since.
    const found = await inspectImage(docker, image.Id, signal);
    if (found?.Config?.Labels?.[CACHE_LABEL] === key) return found.Id;
  }
  return undefined;
}
