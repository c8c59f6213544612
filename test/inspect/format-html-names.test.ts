import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatReportHtml } from '../../src/inspect/format-html.js';
import { withTarget } from '../../src/inspect/load-target.js';
import { reportFor } from '../../src/inspect/report.js';
import { rawHidden } from '../support/raw-hidden.js';
import { type Browser, launchChromium } from './chromium.js';
import { writeHostileDump } from './hostile-names.js';

// Engine-free: a dump of hostile names written by the test, its page drawn by headless Chromium.
let work: string;
let browser: Browser;
let url: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dc-html-names-'));
  const dump = join(work, 'dump');
  writeHostileDump(dump);
  const file = join(work, 'page.html');
  await withTarget(dump, {}, async (target) => {
    writeFileSync(file, formatReportHtml(await reportFor(target, { top: 0 }), target.entries));
  });
  url = pathToFileURL(file).href;
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
});

/**
 * Left edges of the characters of an element's text, in the order the DOM holds them: increasing when the
 * text reads left to right as stored, decreasing where a bidi override reversed it on screen.
 */
const CHARACTER_LEFTS = `(element) => {
  const lefts = [];
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const rect = range.getBoundingClientRect();
      if (rect.width > 0) lefts.push(rect.left);
    }
  }
  return lefts;
}`;
const increasing = (values: number[]) => values.every((value, i) => i === 0 || value > (values[i - 1] ?? 0));

describe('the report page with hostile names, in headless Chromium', () => {
  it('shows a U+202E name as written, marked, never reversed', async () => {
    const { page: tab } = browser;
    await tab.goto(url);
    expect(await tab.evaluate('document.body.dataset.ready')).toBe('true');
    const cell = await tab.evaluate<{ text: string; marked: string[]; lefts: number[] }>(`(() => {
      const cell = [...document.querySelectorAll('#largest .path')].find((p) => p.textContent.includes('rlo'));
      return {
        text: cell.textContent,
        marked: [...cell.querySelectorAll('.esc')].map((e) => e.textContent),
        lefts: (${CHARACTER_LEFTS})(cell),
      };
    })()`);
    expect(cell.text).toBe('/rlo\\u202etxt.exe');
    expect(cell.marked).toEqual(['\\u202e']);
    expect(increasing(cell.lefts)).toBe(true);
    // The same measure on the raw character shows the reversal it must catch.
    const raw = await tab.evaluate<number[]>(`(() => {
      const probe = document.createElement('span');
      probe.textContent = '/rlo\\u202etxt.exe';
      document.body.appendChild(probe);
      const lefts = (${CHARACTER_LEFTS})(probe);
      probe.remove();
      return lefts;
    })()`);
    expect(increasing(raw)).toBe(false);
    expect(tab.errors).toEqual([]);
  });

  it('has no hidden character in what it shows: tables, search results and tooltips', async () => {
    const { page: tab } = browser;
    await tab.goto(url);
    expect(
      rawHidden(await tab.evaluate<string>('document.body.innerText')).filter(
        (c) => c !== 'U+000a' && c !== 'U+0009',
      ),
    ).toEqual([]);
    await tab.evaluate("document.getElementById('search-box').focus()");
    // The search matches the shown form of paths, so an escape can be typed.
    await tab.type('\\x');
    await tab.evaluate('new Promise((resolve) => setTimeout(resolve, 500))');
    const rows = await tab.evaluate<string[]>(
      "[...document.querySelectorAll('#search-results tbody td.path')].map((td) => td.textContent)",
    );
    expect(rows.sort()).toEqual([
      '/byte\\x9b2J',
      '/etc/passwd\\xff',
      '/f\\xfe',
      '/f\\xff',
      '/var/lib/dpkg/status.d/hidden\\xff',
    ]);
    await tab.evaluate(
      "(() => { const box = document.getElementById('search-box'); box.value = ''; box.focus(); })()",
    );
    await tab.type('link');
    await tab.evaluate('new Promise((resolve) => setTimeout(resolve, 500))');
    const link = await tab.evaluate<{ text: string; marked: string[] }>(`(() => {
      const td = document.querySelector('#search-results tbody td.path');
      return { text: td.textContent, marked: [...td.querySelectorAll('.esc')].map((e) => e.textContent) };
    })()`);
    expect(link).toEqual({ text: '/link -> \\e[2Jtarget\\u202e', marked: ['\\e', '\\u202e'] });
    const titles = await tab.evaluate<string[]>(
      "[...document.querySelectorAll('#treemap .cell')].map((c) => c.title)",
    );
    expect(titles.length).toBeGreaterThan(0);
    expect(rawHidden(titles.join(''))).toEqual([]);
    expect(
      rawHidden(await tab.evaluate<string>('document.body.innerText')).filter(
        (c) => c !== 'U+000a' && c !== 'U+0009',
      ),
    ).toEqual([]);
    expect(tab.errors).toEqual([]);
  });
});
