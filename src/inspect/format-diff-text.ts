import { visible, visibleText } from '../text/visible.js';
import type { FieldChange } from './diff.js';
import type { DiffReport } from './diff-report.js';
import { packageFileChangesText } from './format-package-files-text.js';
import { humanSize, signedSize } from './human-size.js';
import { shownPath } from './image-paths.js';
import { octalMode } from './mode-string.js';
import type { TargetInfo } from './target.js';

export interface DiffTextOptions {
  /** The two targets and the summary line only (`diff --stat`). */
  readonly stat?: boolean;
  /** The summary line right below the targets instead of at the end (for a terminal, where the end scrolls). */
  readonly summaryFirst?: boolean;
}

/** The diff as plain text: `+` added, `-` removed, `~` changed with what changed, then folders and packages. */
export function formatDiffText(diff: DiffReport, options: DiffTextOptions = {}): string {
  const out: string[] = [`A: ${describe(diff.a)}`, `B: ${describe(diff.b)}`];
  const summary = summaryLine(diff);
  if (options.stat) {
    const { total } = diff;
    out.push(
      `${summary}`,
      `bytes: ${humanSize(total.a)} -> ${humanSize(total.b)} (${signedSize(total.delta)})`,
    );
    return `${out.join('\n')}\n`;
  }
  if (options.summaryFirst) out.push(summary);
  const section = (title: string) => out.push('', title);
  if (diff.added.length > 0) {
    section(`Added (${diff.added.length})`);
    for (const entry of diff.added) out.push(`  + ${shownPath(entry.path)}  ${entry.type}${sizeOf(entry)}`);
  }
  if (diff.removed.length > 0) {
    section(`Removed (${diff.removed.length})`);
    for (const entry of diff.removed) out.push(`  - ${shownPath(entry.path)}  ${entry.type}${sizeOf(entry)}`);
  }
  if (diff.changed.length > 0) {
    section(`Changed (${diff.changed.length})`);
    for (const entry of diff.changed) {
      out.push(`  ~ ${shownPath(entry.path)}  ${entry.changes.map(describeChange).join(', ')}`);
    }
  }
  if (diff.folders.length > 0) {
    section(`Folder sizes (depth ${diff.options.depth})`);
    for (const folder of diff.folders) {
      out.push(
        `  ${signedSize(folder.delta).padStart(7)}  ${shownPath(folder.path)}  (${humanSize(folder.a)} -> ${humanSize(folder.b)})`,
      );
    }
    const { total } = diff;
    out.push(
      `  ${signedSize(total.delta).padStart(7)}  / (total)  (${humanSize(total.a)} -> ${humanSize(total.b)})`,
    );
  }
  const { packages } = diff;
  if (packages === null) {
    section('Packages: unknown (a side has no file contents to read)');
  } else if (packages.added.length + packages.removed.length + packages.changed.length > 0) {
    section('Packages');
    const arch = (value: string | null) => (value ? ` (${visible(value)})` : '');
    for (const p of packages.added)
      out.push(`  + ${visible(p.name)} ${visible(p.version)}${arch(p.architecture)}`);
    for (const p of packages.removed)
      out.push(`  - ${visible(p.name)} ${visible(p.version)}${arch(p.architecture)}`);
    for (const p of packages.changed)
      out.push(`  ~ ${visible(p.name)} ${visible(p.a)} -> ${visible(p.b)}${arch(p.architecture)}`);
  }
  out.push(...packageFileChangesText(diff.packageFiles));
  if (diff.notes.length > 0) {
    section('Notes');
    for (const note of diff.notes) out.push(`  - ${visibleText(note)}`);
  }
  if (!options.summaryFirst) out.push('', summary);
  return `${out.join('\n')}\n`;
}

function summaryLine(diff: DiffReport): string {
  const { counts, packages } = diff;
  if (diff.identical) return 'Identical.';
  return (
    `${counts.added} added, ${counts.removed} removed, ${counts.changed} changed` +
    (packages
      ? `; packages: ${packages.added.length} added, ${packages.removed.length} removed, ${packages.changed.length} changed`
      : '')
  );
}

function describe(target: TargetInfo): string {
  return `${visible(target.spec)} (${target.kind}${target.ownersFrom === 'disk' ? ', owners as on disk' : ''})`;
}

function sizeOf(entry: { type: string; size: number; target?: string }): string {
  if (entry.type === 'file') return ` ${humanSize(entry.size)}`;
  if (entry.target !== undefined) return ` -> ${visible(entry.target)}`;
  return '';
}

function describeChange(change: FieldChange): string {
  switch (change.field) {
    case 'content':
      return `content ${String(change.a).slice(0, 12)} -> ${String(change.b).slice(0, 12)}`;
    case 'mode':
      return `mode ${octalMode(Number(change.a))} -> ${octalMode(Number(change.b))}`;
    case 'mtime':
      return `mtime ${new Date(Number(change.a) * 1000).toISOString()} -> ${new Date(Number(change.b) * 1000).toISOString()}`;
    case 'xattrs':
      return 'xattrs';
    case 'target':
      return `target ${visible(String(change.a))} -> ${visible(String(change.b))}`;
    default:
      return `${change.field} ${change.a} -> ${change.b}`;
  }
}
