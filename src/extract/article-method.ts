import type Docker from 'dockerode';
import { startError } from '../docker/container.js';
import type { RunResources } from '../docker/run-resources.js';
import type { ManifestEntry } from '../manifest.js';
import { type ProgressListener, step } from '../progress.js';
import type { ImageReference } from '../reference.js';
import { CONTENTS_DIR } from '../template.js';
import { buildArticleImage } from './article-image.js';
import { contentsArchive } from './contents-archive.js';
import { longPathWarning } from './engine-skips.js';
import type { LayerPart } from './fast/layer-history.js';
import type { PathSelection } from './path-selection.js';
import {
  pathsToCopy,
  readSelectedRoots,
  relinkAcrossPaths,
  restoreSelectedRoots,
  type SelectedRoots,
} from './selected-roots.js';
import { writeArchive } from './write-archive.js';

export interface ArticleMethodOptions {
  readonly base: ImageReference;
  readonly pull: 'missing' | 'always' | 'never';
  readonly platform?: string | undefined;
  readonly resources: RunResources;
  readonly cache: boolean;
  readonly keepImage: boolean;
  readonly signal?: AbortSignal | undefined;
  readonly log: (line: string) => void;
  readonly progress?: ProgressListener | undefined;
  /** `--path`: COPY only these, and give them and their parents the image's metadata. */
  readonly selection?: PathSelection | undefined;
}

export interface DumpedImage {
  readonly source: Docker.ImageInspectInfo;
  readonly entries: ManifestEntry[];
  readonly warnings: readonly string[];
  /** The layers and their facts, from methods that read layers (the article method reads none). */
  readonly layerPart?: LayerPart;
}

/**
 * The article's method, steps by step: build `FROM base` + `COPY --from=IMAGE / /distroless-contents/`,
 * run it, and write /distroless-contents from the container's archive into `dir`.
 * The caller removes the container and images: all carry the run's label, and the build reports them too.
 */
export async function dumpWithArticleMethod(
  docker: Docker,
  image: ImageReference,
  dir: string,
  options: ArticleMethodOptions,
): Promise<DumpedImage> {
  const { signal, progress, selection } = options;
  let roots: SelectedRoots = { entries: [], links: [] };
  const built = await buildArticleImage(docker, image, options.base, {
    pull: options.pull,
    platform: options.platform,
    resources: options.resources,
    signal,
    log: options.log,
    progress,
    cache: options.cache,
    keep: options.keepImage,
    ...(selection && {
      copyPaths: async (source) => {
        roots = await step(
          progress,
          'copy',
          () => readSelectedRoots(docker, source, dir, selection, { signal, log: options.log }),
          "the selected paths' parents from the image's own layers (docker save)",
        );
        return pathsToCopy(selection, roots.entries);
      },
    }),
  });
  const container = await step(progress, 'run', async () => {
    const created = await docker.createContainer({
      Image: built.builtId,
      Labels: { ...options.resources.labels },
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
  const entries = selection
    ? await restoreSelectedRoots(
        dir,
        roots.entries,
        await relinkAcrossPaths(dir, roots.links, written.entries),
      )
    : written.entries;
  const warning = await longPathWarning(docker, built.source, entries, dir, options);
  const warnings = warning === undefined ? written.warnings : [...written.warnings, warning];
  return { source: built.source, entries, warnings };
}
