import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffTargets } from '../../src/inspect/diff-report.js';
import { formatDiffText } from '../../src/inspect/format-diff-text.js';
import { formatReportHtml, markHtml } from '../../src/inspect/format-html.js';
import { formatReportText } from '../../src/inspect/format-text.js';
import { withTarget } from '../../src/inspect/load-target.js';
import { type Report, reportFor } from '../../src/inspect/report.js';
import type { InspectEntry } from '../../src/inspect/target.js';
import { visibleJson } from '../../src/text/visible.js';
import { RAW_HIDDEN, rawHidden } from '../support/raw-hidden.js';
import { b, CLEAR, HOSTILE_FILES, OSC_TITLE, writeTree } from './hostile-names.js';

// Engine-free: the dumps are written by the test; what a person would see is the formatters' output.
let work: string;
let hostile: string;
let report: Report;
let entries: readonly InspectEntry[];
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dc-visible-'));
  // The dump folder's own name is hostile too: it appears in the report's notes.
  hostile = join(work, `dump${OSC_TITLE}`);
  writeTree(hostile, HOSTILE_FILES);
  ({ report, entries } = await withTarget(hostile, {}, async (target) => ({
    report: await reportFor(target, { tree: true, depth: 4, top: 0 }),
    entries: target.entries,
  })));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const lines = (text: string) => text.split('\n');

describe('the text report shows every hostile name, target and field visibly', () => {
  it('prints no control, bidi or invisible character, and no byte that is not UTF-8', () => {
    const text = formatReportText(report, { owners: true });
    expect(rawHidden(text.replace(/\n/g, ''))).toEqual([]);
  });

  it("quotes names, link targets, passwd, group, os-release and package fields as $'...'", () => {
    const text = lines(formatReportText(report, { owners: true }));
    const expected = [
      // Tree: names and targets.
      "├── [-rw-r--r-- 0 0]  $'back\\\\e'",
      "├── [-rw-r--r-- 0 0]  $'byte\\x9b2J'",
      "├── [-rw-r--r-- 0 0]  $'clear\\e[2J\\e[H'",
      "├── [-rw-r--r-- 0 0]  $'cr\\rfake'",
      "├── [-rw-r--r-- 0 0]  $'csi\\u009b2J'",
      "├── [drwxr-xr-x 0 0]  $'dir\\u2066'",
      "│   ├── [lrwxrwxrwx 0 0]  passwd -> $'passwd\\xff'",
      "│   └── [-rw-r--r-- 0 0]  $'passwd\\xff'",
      "├── [-rwsr-xr-x 0 0]  $'f\\xfe'",
      "├── [-rw-r--r-- 0 0]  $'f\\xff'",
      "├── [lrwxrwxrwx 0 0]  link -> $'\\e[2Jtarget\\u202e'",
      "├── [-rw-r--r-- 0 0]  $'rlo\\u202etxt.exe'",
      "├── [-rw-r--r-- 0 0]  $'title\\e]2;PWNED\\a'",
      // Users, groups, OS, packages.
      "  $'evil\\e]2;PWNED\\a'    0    0  root   $'/h\\xff'  /bin/sh",
      "  $'wheel\\u202e'   10  $'evil\\r'",
      "  $'Hostile\\e[2J\\e[HOS' (ID=$'evil\\u009b', VERSION_ID=1)  from /etc/os-release",
      // No file list for it in this image: its files and bytes are unknown.
      "  $'hidden\\e[8m'  $'1.0\\u202e'  amd64      ?     ?",
      // Security and the largest files, by their exact rooted paths.
      "    -rwsr-xr-x 4755 0:0  $'/f\\xfe'",
      "     6  -rwsr-xr-x  0:0    $'/f\\xfe'",
      "     5  -rw-r--r--  0:0    $'/f\\xff'",
      "    64  -rw-r--r--  0:0    $'/etc/passwd\\xff'",
      "     1  -rw-r--r--  0:0    $'/dir\\u2066/inside'",
    ];
    for (const line of expected) expect(text).toContain(line);
    // The dump folder's own name, in the notes.
    expect(text.find((line) => line.startsWith('  - Scanned '))).toContain(
      `Scanned $'${work}/dump\\e]2;PWNED\\a': owners are as on disk`,
    );
  });

  it('keeps the report JSON exact: every hidden character a \\u escape, parsing back to the same report', () => {
    const text = visibleJson(report);
    expect(rawHidden(text.replace(/\n/g, ''))).toEqual([]);
    expect(text).toContain('"path": "f\\udcfe"');
    expect(text).toContain('"name": "evil\\u001b]2;PWNED\\u0007"');
    expect(text).toContain('"version": "1.0\\u202e"');
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(report)));
  });
});

describe('the text diff shows changed names visibly', () => {
  it('lists added, removed and changed hostile paths, link targets and packages quoted', async () => {
    const changed = join(work, 'changed');
    writeTree(changed, [
      ...HOSTILE_FILES.filter((f) => !f.path.equals(b('cr\rfake')) && !f.path.equals(b('link'))),
      { path: b('link'), link: b(`${CLEAR}other`) },
      { path: b('new', 0xfe, '\u202e'), content: b('new') },
      {
        path: b('var/lib/dpkg/status.d/more\u2067'),
        content: b(`Package: more${CLEAR}\nVersion: 2\u2066\nArchitecture: all\n`),
      },
    ]);
    const diff = await withTarget(hostile, { hash: true }, (a) =>
      withTarget(changed, { hash: true }, (c) => diffTargets(a, c)),
    );
    const text = formatDiffText(diff);
    expect(rawHidden(text.replace(/\n/g, ''))).toEqual([]);
    const shown = lines(text);
    for (const line of [
      `A: $'${work}/dump\\e]2;PWNED\\a' (folder, owners as on disk)`,
      "  + $'/new\\xfe\\u202e'  file 3",
      "  + $'/var/lib/dpkg/status.d/more\\u2067'  file 53",
      "  - $'/cr\\rfake'  file 1",
      "  ~ /link  target $'\\e[2Jtarget\\u202e' -> $'\\e[2J\\e[Hother'",
      "  + $'more\\e[2J\\e[H' $'2\\u2066' (all)",
    ]) {
      expect(shown).toContain(line);
    }
    expect(diff.identical).toBe(false);
  });
});

describe('the HTML page marks hidden characters', () => {
  it('marks each as its escape in a span of class esc, and the page source holds none raw', () => {
    expect(markHtml('a\u202eb<\x1b')).toBe(
      'a<span class="esc">\\u202e</span>b&lt;<span class="esc">\\e</span>',
    );
    expect(markHtml(`n${'\udcff'}`)).toBe('n<span class="esc">\\xff</span>');
    const html = formatReportHtml(report, entries);
    expect(rawHidden(html.replace(/\n/g, ''))).toEqual([]);
    expect(html).toContain('<span class="path">/rlo<span class="esc">\\u202e</span>txt.exe</span>');
    expect(html).toContain('<td>evil<span class="esc">\\e</span>]2;PWNED<span class="esc">\\a</span></td>');
    // The page's data keeps the exact names, as JSON escapes.
    expect(html).toContain('"rlo\\u202etxt.exe"');
    expect(html).toContain('"f\\udcfe"');
    expect(RAW_HIDDEN.test(html.slice(html.indexOf('<title>'), html.indexOf('</title>')))).toBe(false);
  });
});
