import { writeFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { formatReportHtml } from '../inspect/format-html.js';
import { formatPackageQueriesText, unansweredQueries } from '../inspect/format-package-files-text.js';
import { formatReportText } from '../inspect/format-text.js';
import { withTarget } from '../inspect/load-target.js';
import { DEFAULT_DEPTH, DEFAULT_TOP, reportFor, reportMethod } from '../inspect/report.js';
import { countOption, imageTargetOptions } from '../inspect/target-options.js';
import { commandLine } from '../invocation.js';
import { checkMethod } from '../options.js';
import { visible, visibleJson, visibleLines } from '../text/visible.js';
import { IMAGE_FLAGS } from './image-flags.js';
import { targetContext } from './progress-reporter.js';
import { type CommandContext, parseCommandLine } from './run-command.js';

export const REPORT_HELP = `Usage: ${commandLine('report')} TARGET [options]

Shows what an image holds: summary, heaviest folders (du), users and groups, OS, packages,
security-relevant files and the largest files. TARGET is one of:
  an image reference   extracted first into a temporary folder (see extract; needs --base here)
  a dump folder        scanned with lstat; if NAME.json (a manifest) is beside it, its true owners are used
  a manifest file      written by extract --manifest; file contents come from the dump folder beside it

Options:
  -d, --depth N         folder depth of the du table and the tree (default ${DEFAULT_DEPTH})
  -n, --top N           rows of the heaviest-folders and largest-files tables (default ${DEFAULT_TOP}; 0 for all)
      --tree            add a tree listing (down to --depth)
      --owners          show mode and owner columns in the tree
      --owner PATH      which package claims PATH, as dpkg -S prints it (repeatable)
      --files PKG       PKG's files present in the image, as dpkg -L lists them (repeatable)
      --unowned         list the files, links and devices no package claims
      --layers          per layer: created-by, bytes, files added/changed/deleted, wasted bytes, and
                        dive's efficiency score (needs a dump from the fast method or a file source;
                        an image TARGET is dumped with --method fast)
      --json            print JSON (schema 1: the Report type the package exports)
      --html FILE       write one self-contained page: zoomable treemap, the tables, a path search
      --manifest FILE   for a dump folder: take entries and owners from this manifest
      --pull POLICY     image TARGET: missing (default), always or never
      --method M        image TARGET: article (default; fast with --layers) or fast (needs no base image)
      --platform P      image TARGET: os/arch[/variant]
      --tls-verify=B    docker:// TARGET: check registry certificates (true) or not (false)
      --base IMAGE      image TARGET: image that provides /bin/sh for the extraction
  -q, --quiet           no progress on stderr
      --debug           print stack traces on errors
  -h, --help            show this help

Text goes to stdout unless --json or --html is given; with --owner, --files or --unowned only their
answers. Package file lists are var/lib/dpkg/info/*.list (or *.md5sums), distroless status.d/*.md5sums
and apk's lib/apk/db/installed; a listed /bin/ls owns usr/bin/ls when /bin is a symlink to usr/bin
(dpkg itself compares the strings). A path or package that has no answer exits 1, as dpkg does.
 Exit codes: 0 done, 1 failed, 2 usage error.`;

export async function reportCommand(argv: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, 'report');
  if (values.help) {
    process.stdout.write(`${REPORT_HELP}\n`);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      `Expected exactly one TARGET, got ${positionals.length}: ${commandLine('report')} IMAGE|FOLDER|MANIFEST (see --help).`,
    );
  }
  const depth = countOption('depth', values.depth, DEFAULT_DEPTH, 1);
  const top = countOption('top', values.top, DEFAULT_TOP, 0);
  const quiet = values.quiet ?? false;
  const layers = values.layers ?? false;
  const method = reportMethod(layers, checkMethod(values.method));
  const options = {
    ...imageTargetOptions({ ...values, method }, targetContext(context.signal, quiet)),
    manifest: values.manifest,
  };
  const query = { owner: values.owner, files: values.files, unowned: values.unowned ?? false };
  const queried = query.owner !== undefined || query.files !== undefined || query.unowned;
  let exitCode = 0;
  await withTarget(positionals[0] as string, options, async (target) => {
    const report = await reportFor(target, { depth, top, tree: values.tree ?? false, layers, ...query });
    const unanswered = report.packageFiles ? unansweredQueries(report.packageFiles) : [];
    if (queried && report.packageFiles === null) {
      throw new UsageError(
        `Cannot answer --owner, --files or --unowned for ${target.spec}: package file lists are file contents, and there is no dump folder beside the manifest.`,
      );
    }
    for (const line of unanswered) process.stderr.write(`${line}\n`);
    if (unanswered.length > 0) exitCode = 1;
    if (values.html !== undefined) {
      await writeFile(values.html, formatReportHtml(report, target.entries));
      if (!quiet) process.stderr.write(`wrote ${visible(values.html)} (${target.entries.length} entries)\n`);
    }
    if (values.json) process.stdout.write(`${visibleJson(report)}\n`);
    else if (values.html === undefined && queried && report.packageFiles) {
      process.stdout.write(visibleLines(formatPackageQueriesText(report.packageFiles)));
    } else if (values.html === undefined) {
      process.stdout.write(visibleLines(formatReportText(report, { owners: values.owners ?? false })));
    }
  });
  return exitCode;
}

const OPTIONS = {
  depth: { type: 'string', short: 'd' },
  top: { type: 'string', short: 'n' },
  tree: { type: 'boolean' },
  owners: { type: 'boolean' },
  owner: { type: 'string', multiple: true },
  files: { type: 'string', multiple: true },
  unowned: { type: 'boolean' },
  layers: { type: 'boolean' },
  json: { type: 'boolean' },
  html: { type: 'string' },
  manifest: { type: 'string' },
  ...IMAGE_FLAGS,
} as const;
