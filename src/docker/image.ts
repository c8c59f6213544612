import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { closestName } from '../closest-name.js';
import { DockerError } from '../errors.js';
import type { ImageInfo } from '../manifest.js';
import { type ProgressListener, step } from '../progress.js';
import { type ImageReference, repositoryName } from '../reference.js';
import { daemonMessage, statusCode } from './client.js';
import { type ResolvedAuth, registryHost, resolveRegistryAuth } from './credentials.js';
import { followStream, type StreamEvent } from './stream.js';

export type PullPolicy = 'missing' | 'always' | 'never';

export interface EnsureImageOptions {
  readonly pull: PullPolicy;
  readonly platform?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly log?: ((line: string) => void) | undefined;
  /** Receives the pull's step and its bytes (summed over layers) while it downloads. */
  readonly progress?: ProgressListener | undefined;
  /** The article's base: its errors say how to do without it. */
  readonly role?: 'base' | undefined;
}

/** What to do when the article's base cannot be had: another base, or the method that needs none. */
const NO_BASE = 'give --base IMAGE a local image that has /bin/sh, or use --method fast, which needs no base';

/** Makes sure the image is in the local engine according to the pull policy, and returns its inspect data. */
export async function ensureImage(
  docker: Docker,
  ref: ImageReference,
  options: EnsureImageOptions,
): Promise<Docker.ImageInspectInfo> {
  const found = options.pull === 'always' ? undefined : await inspectImage(docker, ref.raw, options.signal);
  // A local image of another platform is pulled for the one asked, with --pull missing.
  const otherPlatform =
    found && options.platform && !matchesPlatform(found, options.platform) && options.pull === 'missing';
  if (found && !otherPlatform) return found;
  if (options.pull === 'never') {
    const meant = await localSuggestion(docker, ref);
    const advice = options.role === 'base' ? NO_BASE : 'pull or build it first';
    throw new DockerError(
      'IMAGE_NOT_FOUND',
      `Image ${ref.raw}${options.platform ? ` for ${options.platform}` : ''} is not in the local engine, and --pull never forbids pulling it${meant}; ${advice}.`,
    );
  }
  await pullImage(docker, ref, options, async (message) => {
    if (found && otherPlatform) {
      return `Image ${ref.raw} is in the local engine for ${platformOf(found)} only, and pulling it for ${options.platform} failed (${message}); drop --platform to use the local image, or pull it for ${options.platform} first.`;
    }
    const local = options.pull === 'always' && (await inspectImage(docker, ref.raw, options.signal));
    const advice = local
      ? 'use --pull missing to take the local image'
      : `it is not in the local engine either${await localSuggestion(docker, ref)}; ${options.role === 'base' ? NO_BASE : 'check the name, your registry login and network'}`;
    return `Could not pull ${ref.raw}: ${message}; ${advice}.`;
  });
  const pulled = await inspectImage(docker, ref.raw, options.signal);
  if (!pulled) {
    throw new DockerError(
      'IMAGE_NOT_FOUND',
      `Image ${ref.raw} was pulled but the engine cannot find it afterwards.`,
    );
  }
  return pulled;
}

/** " (did you mean NAME?)" when a local image's name is one typo away from `ref`, else "". */
async function localSuggestion(docker: Docker, ref: ImageReference): Promise<string> {
  let tags: string[];
  try {
    tags = (await docker.listImages()).flatMap((image) => image.RepoTags ?? []);
  } catch {
    return '';
  }
  // `name` means `name:latest`: a local `name:latest` is offered as the user would write it.
  const names = tags.filter((tag) => tag !== '<none>:<none>').map((tag) => tag.replace(/:latest$/, ''));
  const meant = closestName(ref.raw.replace(/:latest$/, ''), names);
  return meant === undefined ? '' : ` (did you mean ${meant}?)`;
}

export async function inspectImage(
  docker: Docker,
  name: string,
  signal?: AbortSignal,
): Promise<Docker.ImageInspectInfo | undefined> {
  try {
    return await docker.getImage(name).inspect();
  } catch (error) {
    signal?.throwIfAborted();
    if (statusCode(error) === 404) return undefined;
    throw new DockerError('IMAGE_NOT_FOUND', `Could not inspect image ${name}: ${daemonMessage(error)}`, {
      cause: error,
    });
  }
}

/** Pulls `ref`; a failure other than a refused login is worded by `failure`, which knows what is local. */
async function pullImage(
  docker: Docker,
  ref: ImageReference,
  options: EnsureImageOptions,
  failure: (message: string) => Promise<string>,
): Promise<void> {
  // Pull by digest when there is one; a tag beside a digest is informative only, as in the docker CLI.
  const fromImage = ref.digest ? `${repositoryName(ref)}@${ref.digest}` : repositoryName(ref);
  const query: Record<string, string> = { fromImage, ...(ref.digest ? {} : { tag: ref.tag ?? 'latest' }) };
  if (options.platform) query.platform = options.platform;
  const login = await resolveRegistryAuth(ref.registry, { signal: options.signal });
  options.log?.(`pulling ${ref.raw}${login ? ` with the login from ${login.source}` : ''}`);
  try {
    // The signal too: the engine answers only once it has reached the registry, which may hang.
    const stream = (await docker.createImage({
      ...query,
      ...(login && { authconfig: login.auth }),
      ...(options.signal && { abortSignal: options.signal }),
    })) as Readable;
    await step(
      options.progress,
      'pull',
      () => followStream(stream, options.signal, pullProgress(options.progress)),
      ref.raw,
    );
  } catch (error) {
    options.signal?.throwIfAborted();
    const refused = loginRefused(error, ref, login);
    if (refused) throw refused;
    const code = statusCode(error) === 404 ? 'IMAGE_NOT_FOUND' : 'PULL_FAILED';
    throw new DockerError(code, await failure(daemonMessage(error)), { cause: error });
  }
}

/** Sums the engine's per-layer download counters into one transfer event. */
function pullProgress(progress: ProgressListener | undefined): ((event: StreamEvent) => void) | undefined {
  if (!progress) return undefined;
  const layers = new Map<string, { current: number; total: number }>();
  return (event) => {
    const detail = event.progressDetail;
    if (!event.id || !detail?.total || event.status !== 'Downloading') return;
    layers.set(event.id, { current: detail.current ?? 0, total: detail.total });
    let bytes = 0;
    let totalBytes = 0;
    for (const layer of layers.values()) {
      bytes += layer.current;
      totalBytes += layer.total;
    }
    progress({ kind: 'transfer', step: 'pull', bytes, entries: layers.size, totalBytes });
  };
}

// How engines and registries word a refused login (distribution's errcode, the engine's basic-auth handler).
const REFUSED =
  /unauthorized|authentication required|no basic auth credentials|incorrect username or password/i;

/** The error for a registry that refused the login (or wants one), or undefined for another failure. */
function loginRefused(
  error: unknown,
  ref: ImageReference,
  login: ResolvedAuth | undefined,
): DockerError | undefined {
  const message = daemonMessage(error);
  if (!REFUSED.test(message) && statusCode(error) !== 401) return undefined;
  const host = registryHost(ref.registry);
  const text = login
    ? `Registry ${host} refused the credentials${login.auth.username ? ` of ${login.auth.username}` : ''} from ${login.source} (${message}); run docker login ${host}.`
    : `Registry ${host} wants a login to pull ${ref.raw} (${message}); run docker login ${host}.`;
  return new DockerError('PULL_FAILED', text, { cause: error });
}

function matchesPlatform(image: Docker.ImageInspectInfo, platform: string): boolean {
  const [os, architecture, variant] = platform.split('/');
  const imageVariant = (image as { Variant?: string }).Variant;
  return image.Os === os && image.Architecture === architecture && (!variant || variant === imageVariant);
}

export function platformOf(image: Docker.ImageInspectInfo): string {
  const variant = (image as { Variant?: string }).Variant;
  return [image.Os, image.Architecture, variant].filter(Boolean).join('/');
}

export function imageInfo(reference: string, image: Docker.ImageInspectInfo): ImageInfo {
  const config = image.Config;
  const digest = image.RepoDigests?.[0];
  return {
    reference,
    id: image.Id,
    ...(digest !== undefined && { digest }),
    platform: platformOf(image),
    user: config?.User ?? '',
    workdir: config?.WorkingDir ?? '',
    env: config?.Env ?? [],
    entrypoint: asList(config?.Entrypoint),
    cmd: asList(config?.Cmd),
  };
}

function asList(value: string | string[] | null | undefined): string[] | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? [value] : value;
}
