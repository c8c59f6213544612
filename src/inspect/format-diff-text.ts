import type { FieldChange } from './diff.js';
import type { DiffReport } from './diff-report.js';
import { packageFileChangesText } from './format-package-files-text.js';
import { humanSize, signedSize } from './human-size.js';
import { displayPath } from './image-paths.js';
import { octalMode } from './mode-string.js';
import type { TargetInfo } from './target.js';

/** The diff as plain text: `+` added, `-` removed, `~` changed with what changed, then folders and packages. */
export function formatDiffText(diff: DiffReport): string {
  const out: string[] = [`A: ${describe(diff.a)}`, `B: ${describe(diff.b)}`];
  const section = (title: string) => out.push('', title);
  if (diff.added.length > 0) {
    section(`Added (${diff.added.length})`);
    for (const entry of diff.added) out.push(`  + ${displayPath(entry.path)}  ${entry.type}${sizeOf(entry)}`);
  }
  if (diff.removed.length > 0) {
    section(`Removed (${diff.removed.length})`);
    for (const entry of diff.removed)
      out.push(`  - ${displayPath(entry.path)}  ${entry.type}${sizeOf(entry)}`);
  }
  if (diff.changed.length > 0) {
    section(`Changed (${diff.changed.length})`);
    for (const entry of diff.changed) {
      out.push(`  ~ ${displayPath(entry.path)}  ${entry.changes.map(describeChange).join(', ')}`);
    }
  }
  if (diff.folders.length > 0) {
    section(`Folder sizes (depth ${diff.options.depth})`);
    for (const folder of diff.folders) {
      out.push(
        `  ${signedSize(folder.delta).padStart(7)}  ${displayPath(folder.path)}  (${humanSize(folder.a)} -> ${humanSize(folder.b)})`,
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
    const arch = (value: string | null) => (value ? ` (${value})` : '');
    for (const p of packages.added) out.push(`  + ${p.name} ${p.version}${arch(p.architecture)}`);
    for (const p of packages.removed) out.push(`  - ${p.name} ${p.version}${arch(p.architecture)}`);
    for (const p of packages.changed) out.push(`  ~ ${p.name} ${p.a} -> ${p.b}${arch(p.architecture)}`);
  }
  out.push(...packageFileChangesText(diff.packageFiles));
  if (diff.notes.length > 0) {
    section('Notes');
    for (const note of diff.notes) out.push(`  - ${note}`);
  }
  const { counts } = diff;
  out.push(
    '',
    diff.identical
      ? 'Identical.'
      : `${counts.added} added, ${counts.removed} removed, ${counts.changed} changed` +
          (packages
            ? `; packages: ${packages.added.length} added, ${packages.removed.length} removed, ${packages.changed.length} changed`
            : ''),
  );
  return `${out.join('\n')}\n`;
}

function describe(target: TargetInfo): string {
  return `${target.spec} (${target.kind}${target.ownersFrom === 'disk' ? ', owners as on disk' : ''})`;
}

function sizeOf(entry: { type: string; size: number; target?: string }): string {
  if (entry.type === 'file') return ` ${humanSize(entry.size)}`;
  if (entry.target !== undefined) return ` -> ${entry.target}`;
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
    default:
      return `${change.field} ${change.a} -> ${change.b}`;
  }
}
