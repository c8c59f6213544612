import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { extractImage } from '../extract/extract-image.js';
import { DEFAULT_BASE, DEFAULT_OUTPUT, type PullPolicy } from '../options.js';
import { progressReporter } from './progress-reporter.js';
import { type CommandContext, usageError } from './run-command.js';

export const EXTRACT_HELP = `Usage: npm run extract -- IMAGE [options]

Dumps the whole filesystem of IMAGE into a folder, with exact owners (when root), modes, links and special files.

Options:
  -o, --output DIR      output folder (default ${DEFAULT_OUTPUT}); must be empty unless --force
      --manifest FILE   also write a JSON manifest of every entry (type, mode, owner, size, mtime, sha256, target)
      --force           replace a non-empty output folder (the old one stays until the new one is complete)
      --pull POLICY     missing (default), always or never
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
      --label KEY=VALUE extra label for every container and image the run creates (repeatable)
      --json            print the result as JSON on stdout
  -q, --quiet           no progress on stderr (warnings still show); progress is live on a terminal,
                        a few plain lines (each step and its duration) when piped or with CI=true
      --debug           print stack traces on errors
  -h, --help            show this help

Exit codes: 0 done, 1 failed, 2 usage error, 130/143 interrupted by SIGINT/SIGTERM.`;

export const PULL_POLICIES: readonly PullPolicy[] = ['missing', 'always', 'never'];

export async function extractCommand(argv: string[], context: CommandContext): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw usageError(error, 'npm run extract -- --help');
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${EXTRACT_HELP}\n`);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      `Expected exactly one image, got ${positionals.length}: npm run extract -- IMAGE [--output DIR] (see --help).`,
    );
  }
  const pull = values.pull ?? 'missing';
  if (!PULL_POLICIES.includes(pull as PullPolicy)) {
    throw new UsageError(`Invalid --pull ${JSON.stringify(pull)}: use missing, always or never.`);
  }
  const method = values.method ?? 'article';
  if (method !== 'article' && method !== 'fast') {
    throw new UsageError(`Invalid --method ${JSON.stringify(method)}: use article or fast.`);
  }
  if (values.cache && method === 'fast') {
    throw new UsageError('--cache speeds up the article method only; drop it or use --method article.');
  }
  const image = positionals[0] as string;
  const result = await extractImage(image, {
    ...(values.output !== undefined && { output: values.output }),
    ...(values.manifest !== undefined && { manifest: values.manifest }),
    ...(values.platform !== undefined && { platform: values.platform }),
    ...(values.base !== undefined && { base: values.base }),
    force: values.force ?? false,
    keepImage: values['keep-image'] ?? false,
    method,
    cache: values.cache ?? false,
    pull: pull as PullPolicy,
    labels: parseLabels(values.label ?? []),
    signal: context.signal,
    log: values.quiet ? () => {} : (line) => process.stderr.write(`${line}\n`),
    onProgress: progressReporter({ quiet: values.quiet ?? false }),
  });
  // Warnings are not progress: --quiet keeps them.
  for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
  if (values.json) {
    const { manifest: _manifest, ...summary } = result;
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    const { counts } = result;
    process.stdout.write(
      `${result.output}: ${counts.dirs} directories, ${counts.files} files, ${counts.symlinks} symlinks, ` +
        `${counts.hardlinks} hardlinks, ${counts.special} special, ${counts.bytes} bytes` +
        `${result.manifestPath ? `; manifest ${result.manifestPath}` : ''} (${(result.durationMs / 1000).toFixed(1)} s)\n`,
    );
  }
  return 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      output: { type: 'string', short: 'o' },
      manifest: { type: 'string' },
      force: { type: 'boolean' },
      pull: { type: 'string' },
      platform: { type: 'string' },
      base: { type: 'string' },
      'keep-image': { type: 'boolean' },
      method: { type: 'string' },
      cache: { type: 'boolean' },
      label: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      debug: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
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
