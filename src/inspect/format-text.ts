import { visible, visibleJson, visibleText } from '../text/visible.js';
import { formatLayersText } from './format-layers-text.js';
import { unownedLine, usageCells, usageColumns } from './format-package-files-text.js';
import { humanSize } from './human-size.js';
import { shownPath } from './image-paths.js';
import { modeString, octalMode } from './mode-string.js';
import type { Report } from './report.js';
import type { Finding } from './security.js';
import { textTable } from './text-table.js';
import type { TreeListing } from './tree.js';

export interface TextOptions {
  /** Tree: show mode and owner columns. */
  readonly owners?: boolean;
}

const BAR_WIDTH = 20;

/** The report as aligned plain text, sections in the order of the issue: summary, du, tree, … */
export function formatReportText(report: Report, options: TextOptions = {}): string {
  const out: string[] = [];
  const section = (title: string) => out.push('', title);
  out.push(...heading(report));

  const { summary: s } = report;
  section('Summary');
  const special = s.special > 0 ? ` (${s.fifos} fifo, ${s.charDevices} char, ${s.blockDevices} block)` : '';
  out.push(
    `  ${s.directories} directories, ${s.files} files, ${s.symlinks} symlinks, ${s.hardlinks} hardlinks, ${s.special} special files${special}`,
    `  ${humanSize(s.apparentBytes)} apparent (${s.apparentBytes} bytes of file contents), ` +
      `${humanSize(s.diskBytes)} on disk (${s.diskBytes} bytes${s.diskBytesEstimated ? ', estimated' : ''})`,
  );

  if (report.layers) {
    const empty = report.layers.layers.filter((layer) => layer.empty_layer).length;
    const steps = `${empty} empty step${empty === 1 ? '' : 's'}`;
    section(`Layers (${report.layers.layers.length - empty}, and ${steps} in the history)`);
    out.push(...formatLayersText(report.layers));
  }

  const { du } = report;
  section(`Heaviest folders (depth ${du.depth})`);
  const duRows = du.rows.map((row) => [
    humanSize(row.bytes),
    humanSize(row.diskBytes),
    `${(row.share * 100).toFixed(1)}%`,
    bar(row.share),
    shownPath(row.path),
  ]);
  duRows.push([humanSize(du.total.bytes), humanSize(du.total.diskBytes), '100.0%', bar(1), '/ (total)']);
  out.push(
    ...textTable(
      [
        { header: 'SIZE', align: 'right' },
        { header: 'ON DISK', align: 'right' },
        { header: 'SHARE', align: 'right' },
        { header: '' },
        { header: 'FOLDER' },
      ],
      duRows,
    ),
  );
  if (du.omitted > 0) out.push(`  … ${du.omitted} more folders (--top 0 shows all)`);

  if (report.tree) {
    section(`Tree (depth ${report.tree.depth})`);
    out.push(...treeText(report.tree, options.owners ?? false));
  }

  section('Users and groups');
  const { accounts } = report;
  if (!accounts) out.push('  unknown: no /etc/passwd or /etc/group to read');
  else {
    if (accounts.passwdPath === null) out.push('  no /etc/passwd');
    else
      out.push(
        ...textTable(
          [
            { header: 'USER' },
            { header: 'UID', align: 'right' },
            { header: 'GID', align: 'right' },
            { header: 'GROUP' },
            { header: 'HOME' },
            { header: 'SHELL' },
          ],
          accounts.users.map((u) => [
            visible(u.name),
            String(u.uid),
            String(u.gid),
            u.group === null ? '?' : visible(u.group),
            visible(u.home),
            visible(u.shell),
          ]),
        ),
      );
    if (accounts.groupPath === null) out.push('  no /etc/group');
    else {
      out.push('');
      out.push(
        ...textTable(
          [{ header: 'GROUP' }, { header: 'GID', align: 'right' }, { header: 'MEMBERS' }],
          accounts.groups.map((g) => [visible(g.name), String(g.gid), g.members.map(visible).join(',')]),
        ),
      );
    }
  }

  section('OS');
  const { os } = report;
  if (!os) out.push('  unknown: no /etc/os-release or /usr/lib/os-release to read');
  else {
    const details = [
      os.id && `ID=${visible(os.id)}`,
      os.versionId && `VERSION_ID=${visible(os.versionId)}`,
    ].filter(Boolean);
    out.push(
      `  ${visible(os.name)}${details.length ? ` (${details.join(', ')})` : ''}  from ${shownPath(os.path)}`,
    );
  }

  const { packages } = report;
  section(`Packages${packages ? ` (${packages.packages.length})` : ''}`);
  if (!packages) out.push('  unknown: the package databases cannot be read without the dump folder');
  else if (packages.packages.length === 0) out.push('  none found (no dpkg or apk database)');
  else {
    out.push(`  from ${packages.databases.map(shownPath).join(', ')}`);
    out.push(
      ...textTable(
        [{ header: 'PACKAGE' }, { header: 'VERSION' }, { header: 'ARCH' }, ...usageColumns],
        packages.packages.map((p) => [
          visible(p.name),
          visible(p.version),
          visibleOrEmpty(p.architecture),
          ...usageCells(report, p),
        ]),
      ),
    );
    out.push(...unownedLine(report));
  }

  section('Security');
  const { security } = report;
  out.push(...findings('setuid files', security.setuid));
  out.push(...findings('setgid files', security.setgid));
  out.push(...findings('world-writable (folders without sticky bit)', security.worldWritable));
  out.push(...findings('owned by a uid not in /etc/passwd', security.unknownUid));
  out.push(...findings('owned by a gid not in /etc/group', security.unknownGid));
  out.push(...findings('device nodes', security.devices));

  section(`Largest files (top ${report.largestFiles.length})`);
  out.push(
    ...textTable(
      [{ header: 'SIZE', align: 'right' }, { header: 'MODE' }, { header: 'OWNER' }, { header: 'PATH' }],
      report.largestFiles.map((f) => [
        humanSize(f.size),
        modeString('file', f.mode),
        `${f.uid}:${f.gid}`,
        shownPath(f.path),
      ]),
    ),
  );

  if (report.notes.length > 0) {
    section('Notes');
    for (const note of report.notes) out.push(`  - ${visibleText(note)}`);
  }
  return `${out.join('\n')}\n`;
}

function heading(report: Report): string[] {
  const { image, target } = report;
  if (!image) return [`${visible(target.spec)} (${target.kind})`];
  const list = (value: readonly string[] | null) => (value === null ? 'none' : visibleJson(value, 0));
  return [
    `${visible(image.reference)}  ${visible(image.id)}  ${visible(image.platform)}`,
    `  user ${image.user ? visible(image.user) : '(root)'}, workdir ${image.workdir ? visible(image.workdir) : '/'}, entrypoint ${list(image.entrypoint)}, cmd ${list(image.cmd)}`,
  ];
}

function visibleOrEmpty(value: string | null): string {
  return value === null || value === '' ? '' : visible(value);
}

function bar(share: number): string {
  return '█'.repeat(Math.round(share * BAR_WIDTH));
}

/** `tree -a` drawing; with owners, `[mode uid gid]` before each name as `tree -pug` places it. */
export function treeText(tree: TreeListing, owners: boolean): string[] {
  const uidWidth = Math.max(0, ...tree.lines.map((l) => String(l.uid).length));
  const gidWidth = Math.max(0, ...tree.lines.map((l) => String(l.gid).length));
  const lines = ['.'];
  for (const line of tree.lines) {
    const columns = owners
      ? `[${modeString(line.type, line.mode)} ${String(line.uid).padEnd(uidWidth)} ${String(line.gid).padEnd(gidWidth)}]  `
      : '';
    const link = line.type === 'symlink' ? ` -> ${visible(line.target ?? '')}` : '';
    lines.push(`${line.prefix}${columns}${visible(line.name)}${link}`);
  }
  lines.push('', `${tree.directories} directories, ${tree.others} other entries`);
  return lines;
}

function findings(title: string, list: readonly Finding[] | null): string[] {
  if (list === null) return [`  ${title}: unknown (nothing to check against)`];
  if (list.length === 0) return [`  ${title}: none`];
  return [
    `  ${title}: ${list.length}`,
    ...list.map((f) => {
      const device = f.devmajor !== undefined ? ` ${f.devmajor},${f.devminor ?? 0}` : '';
      return `    ${modeString(f.type, f.mode)} ${octalMode(f.mode)} ${f.uid}:${f.gid}${device}  ${shownPath(f.path)}`;
    }),
  ];
}
