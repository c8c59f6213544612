import type Docker from 'dockerode';
import { buildImage } from '../docker/build.js';
import { ensureImage, type PullPolicy } from '../docker/image.js';
import type { RunResources } from '../docker/run-resources.js';
import { ensureUnpacked } from '../docker/unpack-image.js';
import { TOOL_LABEL, TOOL_NAME } from '../labels.js';
import { type ProgressListener, step } from '../progress.js';
import type { ImageReference } from '../reference.js';
import { renderDockerfile } from '../template.js';
import { CACHE_LABEL, cacheKey, cacheTag, findCachedImage } from './cache.js';

export interface ArticleImageOptions {
  readonly pull: PullPolicy;
  readonly platform?: string | undefined;
  /** The run's labels and what it made; the build reports every image and container to it. */
  readonly resources: RunResources;
  readonly signal?: AbortSignal | undefined;
  readonly log: (line: string) => void;
  readonly progress?: ProgressListener | undefined;
  /** Reuse a built image with the same cache key instead of building (see cache.ts). */
  readonly cache?: boolean | undefined;
  /** The built image will outlive the run: tag it, so clean-ups of interrupted runs spare it. */
  readonly keep?: boolean | undefined;
  /**
   * `--path`: once the image is resolved and before anything is built, what to COPY (each path to its place
   * below /distroless-contents) instead of the root; it may refuse the run.
   */
  readonly copyPaths?: ((source: Docker.ImageInspectInfo) => Promise<readonly string[]>) | undefined;
}

export interface ArticleImage {
  /** Inspect data of the image under study. */
  readonly source: Docker.ImageInspectInfo;
  /** ID of the built image: the base with the source's root under /distroless-contents. */
  readonly builtId: string;
  /** The build was skipped: `builtId` is an earlier run's image. */
  readonly cached: boolean;
}

/** Steps 1-3 of the article: make sure both images are there, render templates/Dockerfile, build it. */
export async function buildArticleImage(
  docker: Docker,
  image: ImageReference,
  base: ImageReference,
  options: ArticleImageOptions,
): Promise<ArticleImage> {
  const { signal, log, progress } = options;
  const pullOptions = { pull: options.pull, platform: options.platform, signal, log, progress };
  const [source, baseImage] = await step(progress, 'resolve', async () => [
    await ensureImage(docker, image, pullOptions),
    // The base runs on this engine, so it stays the engine's own platform whatever --platform picks for the
    // image under study; the legacy builder copies a foreign-platform image's files as they are. `always` is
    // about the image under study: a base that is there (perhaps only locally) is used as it is.
    await ensureImage(docker, base, {
      ...pullOptions,
      pull: options.pull === 'always' ? 'missing' : options.pull,
      platform: undefined,
      role: 'base',
    }),
  ]);
  signal?.throwIfAborted();
  const paths = await options.copyPaths?.(source);
  signal?.throwIfAborted();
  // Image IDs, not names: the build copies exactly the images inspected above, and never pulls.
  const images = { image: source.Id, base: baseImage.Id, paths };
  // The key leaves out the run's own labels: two runs with the same images build the same bytes.
  const key = cacheKey(
    renderDockerfile({ ...images, labels: { [TOOL_LABEL]: TOOL_NAME } }),
    options.platform,
  );
  if (options.cache) {
    const cachedId = await findCachedImage(docker, key, signal);
    if (cachedId) {
      log(`reusing the ${TOOL_NAME} image ${cachedId} (cache: ${cacheTag(key)})`);
      return { source, builtId: cachedId, cached: true };
    }
  }
  const kept = options.cache || options.keep;
  const { resources } = options;
  for (const id of [source.Id, baseImage.Id]) await ensureUnpacked(docker, id, resources.labels);
  const labels = kept ? { ...resources.labels, [CACHE_LABEL]: key } : resources.labels;
  const builtId = await step(
    progress,
    'build',
    async () => {
      try {
        return await buildImage(docker, {
          dockerfile: renderDockerfile({ ...images, labels }),
          tag: kept ? cacheTag(key) : undefined,
          signal,
          onOutput: (line) => progress?.({ kind: 'output', step: 'build', line }),
          onCreated: (resource) => resources.track(resource),
        });
      } catch (error) {
        resources.buildInterrupted();
        throw error;
      }
    },
    `the ${TOOL_NAME} image: FROM ${base.raw}, COPY --from=${image.raw}${paths ? ` ${paths.join(' ')}` : ''}`,
  );
  signal?.throwIfAborted();
  return { source, builtId, cached: false };
}
