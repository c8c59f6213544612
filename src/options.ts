import type Docker from 'dockerode';
import type { PullPolicy } from './docker/image.js';
import { UsageError } from './errors.js';
import { normalisePaths } from './extract/path-selection.js';
import type { ProgressListener } from './progress.js';

export type { PullPolicy };

/** Every pull policy, in the order help texts list them. */
export const PULL_POLICIES: readonly PullPolicy[] = ['missing', 'always', 'never'];

/** `article`: build, run and copy as the article does. `fast`: the same dump from the image's own layers (docker save), nothing built or run. */
export type ExtractMethod = 'article' | 'fast';

/** Every method, the default first. */
export const EXTRACT_METHODS: readonly ExtractMethod[] = ['article', 'fast'];

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
  /**
   * Dump only these subtrees (absolute paths in the image, e.g. `/etc`), with the folders above them; the
   * manifest lists those and records the selection. Normalised, duplicates and nested paths folded.
   * @default [] (the whole image)
   */
  readonly paths?: readonly string[];
  /**
   * `docker://` sources: check the registry's certificate. Unset, loopback registries (127.0.0.0/8, ::1)
   * are insecure as the engine has them (HTTPS unchecked, then plain HTTP); `false` treats any registry so,
   * `true` checks every one.
   */
  readonly tlsVerify?: boolean;
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
  Omit<ExtractOptions, 'manifest' | 'platform' | 'signal' | 'docker' | 'onProgress' | 'tlsVerify'>
> &
  Pick<ExtractOptions, 'manifest' | 'platform' | 'signal' | 'docker' | 'onProgress' | 'tlsVerify'>;

export const DEFAULT_OUTPUT = './distroless-contents';
export const DEFAULT_BASE = 'alpine:3.20.3';

const PLATFORM_PATTERN = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;

/** The one place defaults are decided and options checked: every bad option is a UsageError. */
export function resolveExtractOptions(options: ExtractOptions = {}): ResolvedExtractOptions {
  if (options.platform !== undefined && !PLATFORM_PATTERN.test(options.platform)) {
    throw new UsageError(
      `Invalid platform ${JSON.stringify(options.platform)}: expected os/arch[/variant], e.g. linux/amd64.`,
    );
  }
  const pull = checkPull(options.pull) ?? 'missing';
  const method = checkChoice('method', '--method', options.method, EXTRACT_METHODS) ?? 'article';
  for (const name of ['force', 'keepImage', 'cache'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') {
      throw new UsageError(`Invalid ${name} ${JSON.stringify(options[name])}: expected true or false.`);
    }
  }
  checkTlsVerify(options.tlsVerify);
  if (options.cache && method === 'fast') {
    throw new UsageError('--cache speeds up the article method only; drop it or use --method article.');
  }
  for (const [key, value] of Object.entries(options.labels ?? {})) checkLabel(key, value);
  if (options.paths !== undefined && !Array.isArray(options.paths)) {
    throw new UsageError(
      `Invalid paths ${JSON.stringify(options.paths)}: expected a list of absolute paths.`,
    );
  }
  const paths = normalisePaths(options.paths ?? []);
  if (method === 'article') for (const path of paths) checkCopyPath(path);
  return {
    output: options.output ?? DEFAULT_OUTPUT,
    force: options.force ?? false,
    pull,
    base: options.base ?? DEFAULT_BASE,
    keepImage: options.keepImage ?? false,
    method,
    cache: options.cache ?? false,
    labels: options.labels ?? {},
    paths,
    log: options.log ?? (() => {}),
    manifest: options.manifest,
    platform: options.platform,
    tlsVerify: options.tlsVerify,
    signal: options.signal,
    docker: options.docker,
    onProgress: options.onProgress,
  };
}

/** `--tls-verify=true|false` (the CLI passes what it was given as text when it is neither). */
export function checkTlsVerify(value: unknown): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw new UsageError(
    `Invalid --tls-verify ${JSON.stringify(value)} (option tlsVerify): use --tls-verify=true or --tls-verify=false.`,
  );
}

/** A pull policy, checked; undefined stays undefined (each caller has its default). */
export function checkPull(value: unknown): PullPolicy | undefined {
  return checkChoice('pull', '--pull', value, PULL_POLICIES);
}

export function checkMethod(value: unknown): ExtractMethod | undefined {
  return checkChoice('method', '--method', value, EXTRACT_METHODS);
}

/** One of a fixed list, or a UsageError that names the flag, the library option and every choice. */
export function checkChoice<T extends string>(
  option: string,
  flag: string,
  value: unknown,
  choices: readonly T[],
): T | undefined {
  if (value === undefined || choices.includes(value as T)) return value as T | undefined;
  const listed = `${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}`;
  throw new UsageError(`Invalid ${flag} ${JSON.stringify(value)} (option ${option}): use ${listed}.`);
}

/** Labels reach a Dockerfile and the engine's filters: a key is needed, and no line breaks or other controls. */
function checkLabel(key: string, value: unknown): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused.
  const control = /[\u0000-\u001f\u007f]/;
  if (key === '' || typeof value !== 'string' || control.test(key) || control.test(value)) {
    throw new UsageError(
      `Invalid label ${JSON.stringify(key)}=${JSON.stringify(value)}: expected a non-empty key and a text value without control characters.`,
    );
  }
}

/** The article method writes each path into a COPY step, where these characters are patterns or variables. */
function checkCopyPath(path: string): void {
  // A lone surrogate (a name byte that is not UTF-8) has no JSON form COPY would read back as that byte.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused.
  if (/[*?[\\$"\u0000-\u001f\u007f]/.test(path) || /\p{Surrogate}/u.test(path)) {
    throw new UsageError(
      `--path ${JSON.stringify(path)} holds a character a Dockerfile's COPY reads as a pattern, a variable or a line break (* ? [ \\ $ " or a control) or a byte that is not UTF-8; use --method fast for it.`,
    );
  }
}
