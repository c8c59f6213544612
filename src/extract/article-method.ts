import type Docker from 'dockerode';
import { startError } from '../docker/container.js';
import type { ManifestEntry } from '../manifest.js';
import { type ProgressListener, step } from '../progress.js';
import type { ImageReference } from '../reference.js';
import { CONTENTS_DIR } from '../template.js';
import { buildArticleImage } from './article-image.js';
import { contentsArchive } from './contents-archive.js';
import { mayMissLongPaths, pathsMissingFromArchive } from './engine-skips.js';
import { writeArchive } from './write-archive.js';

export interface ArticleMethodOptions {
  readonly base: ImageReference;
  readonly pull: 'missing' | 'always' | 'never';
  readonly platform?: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly cache: boolean;
  readonly keepImage: boolean;
  readonly signal?: AbortSignal | undefined;
  readonly log: (line: string) => void;
  readonly progress?: ProgressListener | undefined;
}

export interface DumpedImage {
  readonly source: Docker.ImageInspectInfo;
  readonly entries: ManifestEntry[];
  readonly warnings: readonly string[];
}

/**
 * The article's method, steps by step: build `FROM base` + `COPY --from=IMAGE / /distroless-contents/`,
 * run it, and write /distroless-contents from the container's archive into `dir`.
 * The caller removes the container and image by their run label.
 */
export async function dumpWithArticleMethod(
  docker: Docker,
  image: ImageReference,
  dir: string,
  options: ArticleMethodOptions,
): Promise<DumpedImage> {
  const { signal, progress } = options;
  const built = await buildArticleImage(docker, image, options.base, {
    pull: options.pull,
    platform: options.platform,
    labels: options.labels,
    signal,
    log: options.log,
    progress,
    cache: options.cache,
    keep: options.keepImage,
  });
  const container = await step(progress, 'run', async () => {
    const created = await docker.createContainer({
      Image: built.builtId,
      Labels: { ...options.labels },
      HostConfig: { NetworkMode: 'none' },
    });
    try {
      await created.start();
    } catch (error) {
      throw startError(error, options.base.raw);
    }
    // The signal too: a base whose shell does not exit at once would keep an interrupted run waiting.
    await created.wait({ abortSignal: signal });
    return created;
  });
  signal?.throwIfAborted();
  const written = await step(
    progress,
    'copy',
    async () => {
      const archive = await contentsArchive(docker, container);
      return writeArchive(archive, dir, {
        stripComponents: 1,
        signal,
        ...(progress && {
          onProgress: (bytes: number, entries: number) =>
            progress({ kind: 'transfer', step: 'copy', bytes, entries, totalBytes: built.source.Size }),
        }),
      });
    },
    `${CONTENTS_DIR} out of the container`,
  );
  if (!mayMissLongPaths(written.entries)) return { source: built.source, ...written };
  options.log("the archive holds paths near the engine's limit: checking it against the image's own layers");
  const missing = await pathsMissingFromArchive(docker, built.source, written.entries, dir, signal);
  if (missing.length === 0) return { source: built.source, ...written };
  const shown = missing.slice(0, 3).map(shortPath).join(', ');
  const more = missing.length > 3 ? ` and ${missing.length - 3} more` : '';
  const warning = `The engine's archive left out ${missing.length} path${missing.length === 1 ? '' : 's'} of the image, too long for it to read (${shown}${more}); the dump and the manifest lack them: use --method fast.`;
  return { source: built.source, entries: written.entries, warnings: [...written.warnings, warning] };
}

/** A path of thousands of bytes, shortened to its two ends and its length: enough to find it. */
function shortPath(path: string): string {
  if (path.length <= 160) return JSON.stringify(path);
  return `${JSON.stringify(`${path.slice(0, 60)}…${path.slice(-60)}`)} (${Buffer.byteLength(path)} bytes)`;
}
