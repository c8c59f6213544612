import type { EntryType } from '../manifest.js';
import { escapeCharacter, HIDDEN_SOURCE, visible, visibleJson } from '../text/visible.js';
import { unownedLine, usageCells } from './format-package-files-text.js';
import { PAGE_SCRIPT, PAGE_STYLE } from './html-page-assets.js';
import { humanSize } from './human-size.js';
import { displayPath } from './image-paths.js';
import { modeString } from './mode-string.js';
import type { Report } from './report.js';
import type { Finding } from './security.js';
import type { InspectEntry } from './target.js';

const TYPE_CODE: Readonly<Record<EntryType, string>> = {
  file: 'f',
  dir: 'd',
  symlink: 'l',
  hardlink: 'h',
  fifo: 'p',
  char: 'c',
  block: 'b',
};

/** Columns, not objects: a 100,000-entry page stays a few megabytes. */
interface PageEntries {
  /** Paths. */
  p: string[];
  /** One type code per entry: f d l h p c b. */
  t: string;
  s: number[];
  m: number[];
  u: number[];
  g: number[];
  /** Link targets by entry index. */
  l: Record<number, string>;
  /** With --layers: the layer that last wrote each entry (-1 where the manifest names none). */
  y?: number[];
}

/**
 * One self-contained page: the report's tables, a zoomable treemap of sizes by folder and a path search.
 * Nothing is loaded from the network (the page's own Content-Security-Policy forbids it).
 */
export function formatReportHtml(report: Report, entries: readonly InspectEntry[]): string {
  const columns: PageEntries = { p: [], t: '', s: [], m: [], u: [], g: [], l: {} };
  const types: string[] = [];
  entries.forEach((entry, index) => {
    columns.p.push(entry.path);
    types.push(TYPE_CODE[entry.type]);
    columns.s.push(entry.type === 'file' ? entry.size : 0);
    columns.m.push(entry.mode);
    columns.u.push(entry.uid);
    columns.g.push(entry.gid);
    if (entry.target !== undefined) columns.l[index] = entry.target;
  });
  columns.t = types.join('');
  if (report.layers) columns.y = entries.map((entry) => entry.layer ?? -1);
  const title = report.image?.reference ?? report.target.spec;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${escapeHtml(visible(title))} — distroless-contents report</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<header><h1>${markHtml(title)}</h1><p>${markHtml(headerLine(report))}</p></header>
<main>
${summarySection(report)}
<section id="sizes"><h2>Sizes by folder</h2>
<div class="${report.layers ? 'with-layers' : 'sizes'}"><div>
<div id="crumbs"></div>
<div id="treemap" role="img" aria-label="Treemap of file sizes by folder"></div>
<p class="note">Area is the bytes of file contents. Click a folder to zoom in; click a folder in the path above to zoom out.</p>
</div>${layerList(report)}</div>
</section>
<section id="search"><h2>Find paths</h2>
<input id="search-box" type="search" placeholder="Type part of a path, e.g. zoneinfo/Asia" autocomplete="off">
<p id="search-count" class="muted"></p>
<table id="search-results"><thead><tr><th>Path</th><th>Type</th><th class="num">Size</th><th>Mode</th><th class="num">Owner</th></tr></thead><tbody></tbody></table>
</section>
${duSection(report)}
${accountsSection(report)}
${osAndPackagesSection(report)}
${securitySection(report)}
${largestSection(report)}
${notesSection(report)}
</main>
<script type="application/json" id="report-data">${jsonForScript({ entries: columns, ...(report.layers && { layers: pageLayers(report) }) })}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

/**
 * JSON that cannot end its script element or open a comment: every `<` becomes `\u003c`; hidden characters
 * (bidi controls, U+2028, …) are escaped too, so the page's source shows them as escapes.
 */
export function jsonForScript(value: unknown): string {
  return visibleJson(value, 0).replace(/</g, '\\u003c');
}

const HIDDEN_ALL = new RegExp(HIDDEN_SOURCE, 'gu');

/**
 * Text for the page with every hidden character (control, bidi, format, a byte that was not UTF-8) shown as
 * its escape in a `<span class="esc">`: marked, and never acting on the layout as a raw bidi control would.
 */
export function markHtml(text: string): string {
  let out = '';
  let last = 0;
  for (const match of text.matchAll(HIDDEN_ALL)) {
    out += `${escapeHtml(text.slice(last, match.index))}<span class="esc">${escapeHtml(escapeCharacter(match[0]))}</span>`;
    last = match.index + match[0].length;
  }
  return out + escapeHtml(text.slice(last));
}

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] as string,
  );
}

/**
 * The layer list beside the treemap: one button per layer (choosing one highlights in the treemap the files
 * it wrote that the image still holds, and lists what it removed below), empty history steps greyed.
 */
function layerList(report: Report): string {
  const layers = report.layers;
  if (!layers) return '';
  const items = layers.layers.map((layer) => {
    const by = markHtml(layer.created_by ?? '(no history)');
    if (layer.index === undefined)
      return `<li class="empty-step muted"><span class="by">${by}</span> <span>empty</span></li>`;
    return `<li><button type="button" class="layer" data-layer="${layer.index}" aria-pressed="false"><b>#${layer.index}</b> ${escapeHtml(humanSize(layer.size))}<span class="by">${by}</span></button></li>`;
  });
  const e = layers.efficiency;
  return `<aside id="layers"><h3>Layers</h3><ol id="layer-list">${items.join('')}</ol>
<p class="muted">${escapeHtml(`${humanSize(layers.wasted)} wasted; efficiency ${(e.score * 100).toFixed(2)}% as dive scores it`)}</p>
<div id="layer-detail" class="muted">Choose a layer: what it wrote is highlighted, what it removed is listed here.</div></aside>`;
}

/** What the page script shows of each layer when it is chosen. */
function pageLayers(report: Report): unknown[] {
  return (report.layers?.layers ?? []).flatMap((layer) =>
    layer.index === undefined
      ? []
      : [
          {
            i: layer.index,
            s: layer.size,
            a: layer.added,
            c: layer.changed,
            d: layer.deleted,
            w: layer.wasted,
            r: (layer.removed ?? []).map((removed) => ({
              p: removed.path,
              f: removed.files,
              b: removed.bytes,
            })),
          },
        ],
  );
}

function headerLine(report: Report): string {
  const { image } = report;
  if (!image) return `${report.target.kind} ${report.target.spec}`;
  const list = (value: readonly string[] | null) => (value === null ? 'none' : visibleJson(value, 0));
  return `${image.id} · ${image.platform} · user ${image.user || '(root)'} · workdir ${image.workdir || '/'} · entrypoint ${list(image.entrypoint)} · cmd ${list(image.cmd)}`;
}

function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  numeric: readonly number[] = [],
) {
  const cls = (index: number) => (numeric.includes(index) ? ' class="num"' : '');
  const head = headers.map((h, i) => `<th${cls(i)}>${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map((row) => `<tr>${row.map((cell, i) => `<td${cls(i)}>${cell}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const path = (p: string) => `<span class="path">${markHtml(displayPath(p))}</span>`;

function summarySection(report: Report): string {
  const s = report.summary;
  const card = (value: string, label: string) =>
    `<div class="card"><b>${escapeHtml(value)}</b><span>${escapeHtml(label)}</span></div>`;
  return `<section id="summary"><h2>Summary</h2><div class="cards">
${card(String(s.directories), 'directories')}${card(String(s.files), 'files')}${card(String(s.symlinks), 'symlinks')}${card(String(s.hardlinks), 'hardlinks')}${card(String(s.special), 'special files')}
${card(humanSize(s.apparentBytes), `apparent (${s.apparentBytes} bytes)`)}${card(humanSize(s.diskBytes), `on disk${s.diskBytesEstimated ? ', estimated' : ''}`)}
</div></section>`;
}

function duSection(report: Report): string {
  const { du } = report;
  const rows = du.rows.map((row) => [
    escapeHtml(humanSize(row.bytes)),
    escapeHtml(humanSize(row.diskBytes)),
    `${(row.share * 100).toFixed(1)}%`,
    `<span class="share" style="width:${Math.round(row.share * 160)}px"></span>`,
    path(row.path),
  ]);
  const more =
    du.omitted > 0 ? `<p class="muted">${du.omitted} more folders not shown (--top 0 shows all).</p>` : '';
  return `<section id="du"><h2>Heaviest folders (depth ${du.depth})</h2>
${table(['Size', 'On disk', 'Share', '', 'Folder'], rows, [0, 1, 2])}${more}</section>`;
}

function accountsSection(report: Report): string {
  const { accounts } = report;
  if (!accounts)
    return '<section id="accounts"><h2>Users and groups</h2><p class="muted">Unknown: no /etc/passwd or /etc/group to read.</p></section>';
  const users = table(
    ['User', 'UID', 'GID', 'Group', 'Home', 'Shell'],
    accounts.users.map((u) => [
      markHtml(u.name),
      String(u.uid),
      String(u.gid),
      markHtml(u.group ?? '?'),
      markHtml(u.home),
      markHtml(u.shell),
    ]),
    [1, 2],
  );
  const groups = table(
    ['Group', 'GID', 'Members'],
    accounts.groups.map((g) => [markHtml(g.name), String(g.gid), markHtml(g.members.join(','))]),
    [1],
  );
  return `<section id="accounts"><h2>Users and groups</h2><h3>/etc/passwd</h3>${users}<h3>/etc/group</h3>${groups}</section>`;
}

function osAndPackagesSection(report: Report): string {
  const { os, packages } = report;
  const osText = os
    ? `<p>${markHtml(os.name)} <span class="muted">(${markHtml([os.id && `ID=${os.id}`, os.versionId && `VERSION_ID=${os.versionId}`].filter(Boolean).join(', '))}) from ${markHtml(displayPath(os.path))}</span></p>`
    : '<p class="muted">Unknown: no os-release to read.</p>';
  const packageText = !packages
    ? '<p class="muted">Unknown: the package databases cannot be read without the dump folder.</p>'
    : packages.packages.length === 0
      ? '<p class="muted">None found (no dpkg or apk database).</p>'
      : `<p class="muted">From ${markHtml(packages.databases.map(displayPath).join(', '))}</p>${table(
          ['Package', 'Version', 'Architecture', 'Files', 'Size'],
          packages.packages.map((p) => [
            markHtml(p.name),
            markHtml(p.version),
            markHtml(p.architecture ?? ''),
            ...usageCells(report, p).map(escapeHtml),
          ]),
          [3, 4],
        )}${unownedLine(report)
          .map((line) => `<p class="muted">${escapeHtml(line.trim())}</p>`)
          .join('')}`;
  return `<section id="os"><h2>OS</h2>${osText}<h2>Packages${packages ? ` (${packages.packages.length})` : ''}</h2>${packageText}</section>`;
}

function securitySection(report: Report): string {
  const { security } = report;
  const part = (title: string, list: readonly Finding[] | null) => {
    if (list === null)
      return `<h3>${escapeHtml(title)}</h3><p class="muted">Unknown (nothing to check against).</p>`;
    if (list.length === 0) return `<h3>${escapeHtml(title)}: none</h3>`;
    return `<h3>${escapeHtml(title)}: ${list.length}</h3>${table(
      ['Mode', 'Owner', 'Device', 'Path'],
      list.map((f) => [
        `<span class="path">${modeString(f.type, f.mode)}</span>`,
        `${f.uid}:${f.gid}`,
        f.devmajor !== undefined ? `${f.devmajor},${f.devminor ?? 0}` : '',
        path(f.path),
      ]),
    )}`;
  };
  return `<section id="security"><h2>Security</h2>
${part('Setuid files', security.setuid)}
${part('Setgid files', security.setgid)}
${part('World-writable files, and folders without sticky bit', security.worldWritable)}
${part('Owned by a uid not in /etc/passwd', security.unknownUid)}
${part('Owned by a gid not in /etc/group', security.unknownGid)}
${part('Device nodes', security.devices)}</section>`;
}

function largestSection(report: Report): string {
  return `<section id="largest"><h2>Largest files</h2>${table(
    ['Size', 'Mode', 'Owner', 'Path'],
    report.largestFiles.map((f) => [
      escapeHtml(humanSize(f.size)),
      `<span class="path">${modeString('file', f.mode)}</span>`,
      `${f.uid}:${f.gid}`,
      path(f.path),
    ]),
    [0],
  )}</section>`;
}

function notesSection(report: Report): string {
  if (report.notes.length === 0) return '';
  return `<section id="notes"><h2>Notes</h2><ul>${report.notes.map((n) => `<li>${markHtml(n)}</li>`).join('')}</ul></section>`;
}
