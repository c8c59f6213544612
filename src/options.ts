import type Docker from 'dockerode';
import type { PullPolicy } from './docker/image.js';
import { UsageError } from './errors.js';
import type { ProgressListener } from './progress.js';

export type { PullPolicy };

/** `article`: build, run and copy as the article does. `fast`: the same dump from the image's own layers (docker save), nothing built or run. */
export type ExtractMethod = 'article' | 'fast';

/** Options of {@link extractImage}. */
export interface ExtractOptions {
  /**
   * Folder to write the image's filesystem into.
   * @default './distroless-contents'
   */
  readonly output?: string;
  /** Also write the manifest (JSON) to this file. The manifest is always returned. */
  readonly manifest?: string;
  /**
   * Replace a non-empty output folder; the old one stays until the new one is whole.
   * @default false
   */
  readonly force?: boolean;
  /**
   * When to pull the source and base images.
   * @default 'missing'
   */
  readonly pull?: PullPolicy;
  /** Platform to pull and build for, as `os/arch[/variant]`. */
  readonly platform?: string;
  /**
   * The image that provides /bin/sh for the article's container.
   * @default 'alpine:3.20.3'
   */
  readonly base?: string;
  /**
   * Keep the built image instead of removing it.
   * @default false
   */
  readonly keepImage?: boolean;
  /**
   * How to dump: `fast` gives the same folder and manifest without building an image or running a container.
   * @default 'article'
   */
  readonly method?: ExtractMethod;
  /**
   * Article method: reuse the image an earlier `cache` or `keepImage` run built for the same source, base and
   * template instead of building again, and keep (tagged `distroless-contents-cache:<key>`) what this run builds.
   * @default false
   */
  readonly cache?: boolean;
  /** Extra labels for every container and image the run creates (the tool's own labels are always added). */
  readonly labels?: Readonly<Record<string, string>>;
  /** A dockerode client; by default one is made from DOCKER_HOST and friends. */
  readonly docker?: Docker;
  /** Stops the run; everything it created is removed before the promise rejects. */
  readonly signal?: AbortSignal;
  /** Receives notable messages: reuse of a cached image, removal of an interrupted run's leftovers, warnings. */
  readonly log?: (line: string) => void;
  /** Receives each step's start and end, the build's output, and the copy's bytes and entries. */
  readonly onProgress?: ProgressListener;
}

export type ResolvedExtractOptions = Required<
  Omit<ExtractOptions, 'manifest' | 'platform' | 'signal' | 'docker' | 'onProgress'>
> &
  Pick<ExtractOptions, 'manifest' | 'platform' | 'signal' | 'docker' | 'onProgress'>;

export const DEFAULT_OUTPUT = './distroless-contents';
export const DEFAULT_BASE = 'alpine:3.20.3';

const PLATFORM_PATTERN = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;

/** The one place defaults are decided and options checked. */
export function resolveExtractOptions(options: ExtractOptions = {}): ResolvedExtractOptions {
  if (options.platform !== undefined && !PLATFORM_PATTERN.test(options.platform)) {
    throw new UsageError(
      `Invalid platform ${JSON.stringify(options.platform)}: expected os/arch[/variant], e.g. linux/amd64.`,
    );
  }
  return {
    output: options.output ?? DEFAULT_OUTPUT,
    force: options.force ?? false,
    pull: options.pull ?? 'missing',
    base: options.base ?? DEFAULT_BASE,
    keepImage: options.keepImage ?? false,
    method: options.method ?? 'article',
    cache: options.cache ?? false,
    labels: options.labels ?? {},
    log: options.log ?? (() => {}),
    manifest: options.manifest,
    platform: options.platform,
    signal: options.signal,
    docker: options.docker,
    onProgress: options.onProgress,
  };
}
