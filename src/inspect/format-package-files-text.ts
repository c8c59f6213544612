import { visibleText } from '../text/visible.js';
import { humanSize } from './human-size.js';
import { displayPath } from './image-paths.js';
import type { PackageFileChanges } from './package-file-diff.js';
import { type PackageFiles, usageOf } from './package-files.js';
import type { Report } from './report.js';

/** The answers to --owner, --files and --unowned, as dpkg -S and dpkg -L print them; unanswered ones left out. */
export function formatPackageQueriesText(files: PackageFiles): string {
  const out: string[] = [];
  for (const answer of files.owners ?? []) {
    if (answer.owners.length === 0) continue;
    const listedAs =
      answer.listedAs.length > 0 ? ` (listed as ${answer.listedAs.map(displayPath).join(', ')})` : '';
    out.push(visibleText(`${answer.owners.join(', ')}: ${displayPath(answer.path)}${listedAs}`));
  }
  for (const answer of files.files ?? [])
    out.push(...answer.paths.map((path) => visibleText(displayPath(path))));
  for (const path of files.unowned ?? []) out.push(visibleText(displayPath(path)));
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}

/** One line each for what a query could not answer (stderr; the exit code is 1, as dpkg's). */
export function unansweredQueries(files: PackageFiles): string[] {
  const lines: string[] = [];
  const none = files.databases.length === 0 ? ' (the image has no package file lists)' : '';
  for (const answer of files.owners ?? []) {
    if (answer.owners.length === 0)
      lines.push(visibleText(`No package owns ${displayPath(answer.path)}${none}.`));
  }
  for (const answer of files.files ?? []) {
    if (!answer.found)
      lines.push(visibleText(`No package ${answer.package} has a file list in the image${none}.`));
  }
  return lines;
}

/** FILES and SIZE columns of the report's package table: what of each package the image holds. */
export const usageColumns = [
  { header: 'FILES', align: 'right' },
  { header: 'SIZE', align: 'right' },
] as const;

export function usageCells(
  report: Report,
  pkg: { readonly name: string; readonly architecture: string | null },
): string[] {
  const usage = report.packageFiles && usageOf(report.packageFiles, pkg);
  return usage ? [String(usage.files), humanSize(usage.bytes)] : ['?', '?'];
}

export function unownedLine(report: Report): string[] {
  const files = report.packageFiles;
  if (!files || files.databases.length === 0) return [];
  const from = files.databases.map(displayPath).join(', ');
  return [
    `  ${files.unownedCount} files belong to no package (--unowned lists them); file lists from ${from}`,
  ];
}

/** The diff's "Files by package" section: each changed package's paths, `+` added, `-` removed, `~` changed. */
export function packageFileChangesText(changes: readonly PackageFileChanges[] | null): string[] {
  if (changes === null || changes.length === 0) return [];
  const out = ['', 'Files by package'];
  for (const c of changes) {
    out.push(
      `  ${c.package}: ${c.added.length} added, ${c.removed.length} removed, ${c.changed.length} changed`,
    );
    out.push(...c.added.map((path) => `    + ${displayPath(path)}`));
    out.push(...c.removed.map((path) => `    - ${displayPath(path)}`));
    out.push(...c.changed.map((path) => `    ~ ${displayPath(path)}`));
  }
  return out;
}
