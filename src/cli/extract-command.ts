import { readFile } from 'node:fs/promises';
import { type BatchOptions, extractImages } from '../batch/extract-batch.js';
import { DistrolessContentsError, UsageError } from '../errors.js';
import { extractImage } from '../extract/extract-image.js';
import { commandLine } from '../invocation.js';
import {
  DEFAULT_BASE,
  DEFAULT_OUTPUT,
  type ExtractMethod,
  type ExtractOptions,
  type PullPolicy,
  resolveExtractOptions,
} from '../options.js';
import { sourceKey } from '../sources/source-reference.js';
import { visible, visibleJson, visibleText } from '../text/visible.js';
import { IMAGE_FLAGS } from './image-flags.js';
import { progressReporter } from './progress-reporter.js';
import { type CommandContext, exitCode, parseCommandLine } from './run-command.js';

export const EXTRACT_HELP = `Usage: ${commandLine('extract')} IMAGE [options]
       ${commandLine('extract')} IMAGE... --output-dir DIR [--from-file LIST] [--jobs N] [options]

Dumps the whole filesystem of IMAGE into a folder, with exact owners (when root), modes, links and special files.
IMAGE may also be oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:NAME:TAG] (or :@N), or
docker://HOST/NAME:TAG|@DIGEST (a registry, logins from docker login): read without an engine, through the
fast method's layer applier.
With several images (or --output-dir, or --from-file) each goes to DIR/<name>-<hash> with DIR/<name>-<hash>.json
beside it, where <name> is the normalised reference with characters outside [A-Za-z0-9._-] as _ and <hash> the
first 8 hex digits of its SHA-256; a failed image does not stop the others, and the exit code is 1 if any failed.

Options:
  -o, --output DIR      output folder (default ${DEFAULT_OUTPUT}); must be empty unless --force
      --manifest FILE   also write a JSON manifest of every entry (type, mode, owner, size, mtime, sha256, target)
      --force           replace a non-empty output folder (the old one stays until the new one is complete)
      --pull POLICY     missing (default), always or never (always re-pulls IMAGE; the base only when missing)
      --platform P      os/arch[/variant] to pull and build for, e.g. linux/arm64
      --base IMAGE      image that provides /bin/sh for the article's container (default ${DEFAULT_BASE})
      --keep-image      keep the built image (it is removed by default)
      --method M        article (default): build, run and copy as the article does;
                        fast: the same folder and manifest from the image's own layers (docker save),
                        nothing built or run
      --cache           article method: reuse the image an earlier --cache or --keep-image run built for the
                        same image, base and template; keep what this run builds (tagged
                        distroless-contents-cache:KEY). Clear with: docker image rm $(docker images -q
                        --filter label=dev.distroless-contents.cache-key)
      --path PATH       only this subtree of the image (repeatable), e.g. --path /etc; the folders above it
                        come with their own owner, mode and mtime, and the manifest lists these alone
      --tls-verify=B    docker:// sources: true checks every registry's certificate, false none (and allows
                        plain HTTP); by default loopback registries are insecure, as the engine has them
      --output-dir DIR  batch: one folder and manifest per image in DIR
      --from-file LIST  batch: also read images from LIST, one per line (# comments and blank lines ignored)
      --jobs N          batch: images extracted at once (default 2)
      --label KEY=VALUE extra label for every container and image the run creates (repeatable)
      --json            print the result as JSON on stdout
  -q, --quiet           no progress on stderr (warnings still show); progress is live on a terminal,
                        a few plain lines (each step and its duration) when piped or with CI=true
      --debug           print stack traces on errors
  -h, --help            show this help

Exit codes: 0 done, 1 failed, 2 usage error, 130/143 interrupted by SIGINT/SIGTERM.`;

export async function extractCommand(argv: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, 'extract');
  if (values.help) {
    process.stdout.write(`${EXTRACT_HELP}\n`);
    return 0;
  }
  const images = [...positionals, ...(values['from-file'] ? await readImageList(values['from-file']) : [])];
  const batch = images.length > 1 || values['output-dir'] !== undefined || values['from-file'] !== undefined;
  if (images.length === 0 || (!batch && images.length !== 1)) {
    throw new UsageError(
      `Expected an image, got none: ${commandLine('extract')} IMAGE [--output DIR], or IMAGE... --output-dir DIR (see --help).`,
    );
  }
  if (batch && (values.output !== undefined || values.manifest !== undefined)) {
    throw new UsageError(
      `${values.output !== undefined ? '--output' : '--manifest'} names one image's output; with several images use --output-dir DIR.`,
    );
  }
  if (!batch && values.jobs !== undefined)
    throw new UsageError('--jobs goes with several images or --output-dir.');
  const jobs = values.jobs === undefined ? 2 : Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) {
    throw new UsageError(`Invalid --jobs ${JSON.stringify(values.jobs)}: use a whole number from 1 to 64.`);
  }
  const common: Omit<ExtractOptions, 'output' | 'manifest'> = {
    ...(values.platform !== undefined && { platform: values.platform }),
    ...(values.base !== undefined && { base: values.base }),
    force: values.force ?? false,
    keepImage: values['keep-image'] ?? false,
    ...(values.method !== undefined && { method: values.method as ExtractMethod }),
    cache: values.cache ?? false,
    ...(values.pull !== undefined && { pull: values.pull as PullPolicy }),
    ...(values['tls-verify'] !== undefined && { tlsVerify: tlsVerifyFlag(values['tls-verify']) }),
    labels: parseLabels(values.label ?? []),
    ...(values.path !== undefined && { paths: values.path }),
    signal: context.signal,
  };
  // Checked here too for a batch, whose images would otherwise each fail alone with the same usage error.
  resolveExtractOptions(common);
  const quiet = values.quiet ?? false;
  if (batch) {
    const outputDir = values['output-dir'] ?? DEFAULT_OUTPUT;
    if (!quiet)
      process.stderr.write(
        `extracting ${images.length} images into ${visible(outputDir)}, ${jobs} at a time\n`,
      );
    return runBatch(images, { ...common, jobs, outputDir }, quiet, values.json ?? false);
  }
  const progress = progressReporter({ quiet });
  let result: Awaited<ReturnType<typeof extractImage>>;
  try {
    result = await extractImage(images[0] as string, {
      ...common,
      ...(values.output !== undefined && { output: values.output }),
      ...(values.manifest !== undefined && { manifest: values.manifest }),
      log: progress.log,
      onProgress: progress,
    });
  } catch (error) {
    // A tool reading --json gets an answer either way; the error line still goes to stderr.
    if (values.json) process.stdout.write(`${visibleJson(failureJson(images[0] as string, error))}\n`);
    throw error;
  }
  // Warnings are not progress: --quiet keeps them.
  for (const warning of result.warnings) process.stderr.write(`warning: ${visibleText(warning)}\n`);
  if (values.json) {
    const { manifest: _manifest, ...summary } = result;
    process.stdout.write(`${visibleJson({ status: 'done', ...summary })}\n`);
  } else {
    const { counts } = result;
    process.stdout.write(
      `${visible(result.output)}: ${counts.dirs} directories, ${counts.files} files, ${counts.symlinks} symlinks, ` +
        `${counts.hardlinks} hardlinks, ${counts.special} special, ${counts.bytes} bytes` +
        `${result.manifestPath ? `; manifest ${visible(result.manifestPath)}` : ''} (${(result.durationMs / 1000).toFixed(1)} s)\n`,
    );
  }
  return 0;
}

async function runBatch(
  images: readonly string[],
  options: BatchOptions,
  quiet: boolean,
  json: boolean,
): Promise<number> {
  // Every reference is checked before anything starts, so one typo fails the batch with exit 2 at once.
  for (const image of images) sourceKey(image);
  const result = await extractImages(images, {
    ...options,
    ...(!quiet && { log: (line: string) => process.stderr.write(`${visibleText(line)}\n`) }),
    onImage: (image) => {
      for (const warning of image.warnings)
        process.stderr.write(`warning: ${visible(image.reference)}: ${visibleText(warning)}\n`);
      if (quiet) return;
      process.stderr.write(
        image.status === 'done'
          ? `${visible(image.reference)}: done in ${(image.durationMs / 1000).toFixed(1)} s\n`
          : `${visible(image.reference)}: failed: ${visibleText(image.error ?? '')}\n`,
      );
    },
  });
  if (json) {
    process.stdout.write(`${visibleJson(result)}\n`);
  } else {
    for (const image of result.images) {
      process.stdout.write(
        image.status === 'done'
          ? `done    ${visible(image.reference)} -> ${visible(image.output)} (${image.counts?.entries} entries, ${image.counts?.bytes} bytes, ${(image.durationMs / 1000).toFixed(1)} s)\n`
          : `failed  ${visible(image.reference)}: ${visibleText(image.error ?? '')}\n`,
      );
    }
    process.stdout.write(`${result.images.length - result.failed} done, ${result.failed} failed\n`);
  }
  return result.failed > 0 ? 1 : 0;
}

/** What `--json` prints for a failed single extraction: the fields a batch gives a failed image. */
function failureJson(reference: string, error: unknown) {
  return {
    status: 'failed',
    reference,
    error: error instanceof Error ? error.message : String(error),
    ...(error instanceof DistrolessContentsError && { code: error.code }),
    exitCode: exitCode(error),
  };
}

/** One reference a line; `#` starts a comment. */
async function readImageList(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read --from-file ${file}: ${(error as Error).message}`, { cause: error });
  }
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean);
}

const OPTIONS = {
  output: { type: 'string', short: 'o' },
  manifest: { type: 'string' },
  force: { type: 'boolean' },
  'keep-image': { type: 'boolean' },
  cache: { type: 'boolean' },
  label: { type: 'string', multiple: true },
  path: { type: 'string', multiple: true },
  'output-dir': { type: 'string' },
  'from-file': { type: 'string' },
  jobs: { type: 'string' },
  json: { type: 'boolean' },
  ...IMAGE_FLAGS,
} as const;

/** The flag's text as the library's boolean; anything else goes through as text for the library to refuse. */
export function tlsVerifyFlag(value: string): boolean {
  return value === 'true' ? true : value === 'false' ? false : (value as unknown as boolean);
}

export function parseLabels(pairs: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals < 1) throw new UsageError(`Invalid --label ${JSON.stringify(pair)}: expected KEY=VALUE.`);
    labels[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return labels;
}
