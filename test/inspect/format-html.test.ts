import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { formatReportHtml } from '../../src/inspect/format-html.js';
import { withTarget } from '../../src/inspect/load-target.js';
import { reportFor } from '../../src/inspect/report.js';
import type { InspectEntry } from '../../src/inspect/target.js';
import { type Browser, launchChromium } from './chromium.js';
import { dumpImage } from './dumps.js';

/** Screenshots are kept here (overwritten each run) so a person can look at them. */
const SHOT_DIR = join(tmpdir(), 'distroless-contents-screenshots');

let work: string;
let browser: Browser;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dc-html-'));
  mkdirSync(SHOT_DIR, { recursive: true });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
});

async function page(
  target: string,
  name: string,
): Promise<{ file: string; entries: readonly InspectEntry[] }> {
  return withTarget(target, {}, async (t) => {
    const file = join(work, `${name}.html`);
    writeFileSync(file, formatReportHtml(await reportFor(t), t.entries));
    return { file, entries: t.entries };
  });
}

function isPng(image: Buffer): boolean {
  return image.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
}

describe('the report page in headless Chromium', () => {
  it('shows the static look-alike: treemap with zoneinfo, tables, no errors, no network', async () => {
    const { folder } = await dumpImage(TEST_IMAGES.staticNonroot, work, 'static');
    const { file } = await page(folder, 'static');
    const { page: tab } = browser;
    await tab.goto(pathToFileURL(file).href);
    expect(await tab.evaluate('document.body.dataset.ready')).toBe('true');
    const cells = await tab.evaluate<string[]>(
      "[...document.querySelectorAll('#treemap .cell')].map((c) => c.dataset.path)",
    );
    expect(cells).toContain('usr/share/zoneinfo');
    const heading = await tab.evaluate<string>(
      "document.querySelector('#du tbody tr:nth-child(3) .path').textContent",
    );
    expect(heading).toBe('/usr/share/zoneinfo');
    const text = await tab.evaluate<string>('document.body.innerText');
    for (const expected of ['nonroot', '65532', 'Distroless', 'tzdata', 'Setuid files: none'])
      expect(text).toContain(expected);
    const shot = await tab.screenshot();
    writeFileSync(join(SHOT_DIR, 'static.png'), shot);
    expect(isPng(shot)).toBe(true);
    expect(tab.errors).toEqual([]);
    expect(tab.requests).toEqual([pathToFileURL(file).href]);
  });

  it('stays usable with 25,000 entries: search by typing, zoom by clicking, screenshot', async () => {
    const root = join(work, 'many');
    for (let d = 0; d < 50; d++) {
      const dir = join(root, `dir-${String(d).padStart(2, '0')}`);
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 500; f++) writeFileSync(join(dir, `file-${f}.dat`), 'x'.repeat((d + 1) * 10 + f));
    }
    symlinkSync('dir-00/file-0.dat', join(root, 'a-link'));
    const { file, entries } = await page(root, 'many');
    expect(entries.length).toBeGreaterThan(25_000);
    const { page: tab } = browser;
    await tab.goto(pathToFileURL(file).href);
    expect(await tab.evaluate('document.body.dataset.ready')).toBe('true');

    await tab.evaluate("document.getElementById('search-box').focus()");
    await tab.type('file-49');
    await tab.evaluate('new Promise((resolve) => setTimeout(resolve, 500))');
    const count = await tab.evaluate<string>("document.getElementById('search-count').textContent");
    const expected = entries.filter((e) => e.path.toLowerCase().includes('file-49')).length;
    expect(count).toBe(`${expected} matches, first 200 shown`);
    const rows = await tab.evaluate<number>("document.querySelectorAll('#search-results tbody tr').length");
    expect(rows).toBe(200);
    writeFileSync(join(SHOT_DIR, 'many-search.png'), await tab.screenshot());

    // The heaviest folder is dir-49 (largest files); clicking it zooms the treemap into it.
    const box = await tab.evaluate<{ x: number; y: number; path: string }>(`(() => {
      document.getElementById('treemap').scrollIntoView();
      const cell = document.querySelector('#treemap > .cell.dir');
      const r = cell.getBoundingClientRect();
      return { x: r.left + 10, y: r.top + 5, path: cell.dataset.path };
    })()`);
    expect(box.path).toBe('dir-49');
    await tab.click(box.x, box.y);
    const crumbs = await tab.evaluate<string>("document.getElementById('crumbs').textContent");
    expect(crumbs).toMatch(/^\/dir-49 {2}\S+$/);
    const zoomed = await tab.evaluate<string[]>(
      "[...document.querySelectorAll('#treemap > .cell')].map((c) => c.dataset.path).slice(0, 3)",
    );
    expect(zoomed).toEqual(['dir-49/file-499.dat', 'dir-49/file-498.dat', 'dir-49/file-497.dat']);
    const shot = await tab.screenshot();
    writeFileSync(join(SHOT_DIR, 'many-zoomed.png'), shot);
    expect(isPng(shot)).toBe(true);
    expect(tab.errors).toEqual([]);
  });

  it('keeps hostile file names as data: </script>, <!--, quotes and markup never break out', async () => {
    const root = join(work, 'hostile');
    // A name cannot hold `/`, a symlink target can: that is where `</script>` goes.
    const names = [
      '<script>document.title="pwned"<',
      '<!--',
      '"quoted" & \'single\'',
      '<b>bold<',
      'ünï ☃ 文件',
    ];
    const evil = '</script><script>document.title="pwned"</script><!--';
    mkdirSync(root);
    for (const name of names) writeFileSync(join(root, name), name);
    symlinkSync(evil, join(root, 'link'));
    const { file } = await page(root, 'hostile');
    const { page: tab } = browser;
    await tab.goto(pathToFileURL(file).href);
    expect(await tab.evaluate('document.body.dataset.ready')).toBe('true');
    expect(await tab.evaluate('document.title')).not.toBe('pwned');
    expect(await tab.evaluate("document.querySelectorAll('script').length")).toBe(2);
    const data = await tab.evaluate<{ p: string[]; l: Record<string, string> }>(
      "JSON.parse(document.getElementById('report-data').textContent).entries",
    );
    expect(data.p.sort()).toEqual([...names, 'link'].sort());
    expect(Object.values(data.l)).toEqual([evil]);
    await tab.evaluate("document.getElementById('search-box').focus()");
    await tab.type('link');
    await tab.evaluate('new Promise((resolve) => setTimeout(resolve, 500))');
    expect(await tab.evaluate("document.querySelector('#search-results tbody td.path').textContent")).toBe(
      `/link -> ${evil}`,
    );
    const largest = await tab.evaluate<string[]>(
      "[...document.querySelectorAll('#largest tbody td:last-child')].map((c) => c.textContent)",
    );
    expect(largest.sort()).toEqual(names.map((name) => `/${name}`).sort());
    expect(tab.errors).toEqual([]);
  });
});
