import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractImage } from '../../src/index.js';
import { formatReportHtml } from '../../src/inspect/format-html.js';
import { withTarget } from '../../src/inspect/load-target.js';
import { reportFor } from '../../src/inspect/report.js';
import { writeLayersImage } from '../support/layers-image.js';
import { readPng } from '../support/png-pixels.js';
import { type Browser, launchChromium } from './chromium.js';

// The page's layer view in headless Chromium: the layered fixture (layers-image.ts), dumped from its
// docker-archive with no engine, a click on a layer, what the treemap highlights, a screenshot read back.

const SHOT_DIR = join(tmpdir(), 'distroless-contents-screenshots');
/** Which layer last wrote each file the fixture's image holds, from the members the test wrote. */
const FILES_BY_LAYER: Readonly<Record<number, readonly string[]>> = {
  0: ['data/keep'],
  // Largest first, as the page lists them.
  1: ['etc/config', 'data/d1/c'],
  2: ['big/blob'],
};
/** The highlight colour of a chosen layer's cells (html-page-assets.ts). */
const HIT: [number, number, number] = [0xe8, 0x59, 0x0c];

let work: string;
let browser: Browser;
let page: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-html-layers-'));
  mkdirSync(SHOT_DIR, { recursive: true });
  const { archive } = await writeLayersImage(work, 'distroless-contents-test/layers:html', 'html');
  const output = join(work, 'dump');
  await extractImage(`docker-archive:${archive}`, { output, manifest: `${output}.json` });
  page = join(work, 'layers.html');
  await withTarget(output, {}, async (target) => {
    writeFileSync(page, formatReportHtml(await reportFor(target, { layers: true }), target.entries));
  });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

interface Cell {
  path: string;
  hit: boolean;
  dim: boolean;
  x: number;
  y: number;
  w: number;
  h: number;
}

const CELLS = `[...document.querySelectorAll('#treemap .cell')].map((c) => {
  const r = c.getBoundingClientRect();
  return { path: c.dataset.path, hit: c.classList.contains('hit'), dim: c.classList.contains('dim'), x: r.x, y: r.y, w: r.width, h: r.height };
})`;

async function clickLayer(index: number): Promise<void> {
  const { page: tab } = browser;
  const box = await tab.evaluate<{ x: number; y: number }>(
    `(() => { const b = document.querySelector('button.layer[data-layer="${index}"]'); b.scrollIntoView({ block: 'center' }); const r = b.getBoundingClientRect(); return { x: r.x + r.width / 2, y: r.y + r.height / 2 }; })()`,
  );
  await tab.click(box.x, box.y);
}

describe('the layer view of the report page', () => {
  it('lists every history step beside the treemap, empty ones greyed', async () => {
    const { page: tab } = browser;
    await tab.goto(pathToFileURL(page).href);
    expect(await tab.evaluate('document.body.dataset.ready')).toBe('true');
    const items = await tab.evaluate<string[]>(
      "[...document.querySelectorAll('#layer-list li')].map((li) => (li.querySelector('button') ? 'layer ' : 'empty ') + li.querySelector('.by').textContent)",
    );
    expect(items).toEqual([
      'layer ADD base.tar / # layers test',
      'empty ENV LAYERS=1',
      'layer RUN overwrite etc/config; rm -r opt/tool; replace data/d1',
      'empty LABEL layers=test',
      'layer RUN chown 1000 big/blob',
      'empty CMD ["/nothing"]',
    ]);
    // Side by side: the list is right of the treemap, not below it.
    const [map, list] = await tab.evaluate<number[][]>(
      "['treemap', 'layers'].map((id) => { const r = document.getElementById(id).getBoundingClientRect(); return [r.left, r.top, r.right]; })",
    );
    expect(list?.[0]).toBeGreaterThan(map?.[2] as number);
    expect(tab.errors).toEqual([]);
  });

  it.each([1, 2])(
    'a click on layer %i highlights the folders holding its files, dims the rest, lists what it removed',
    async (layer) => {
      const { page: tab } = browser;
      await tab.goto(pathToFileURL(page).href);
      await clickLayer(layer);
      expect(
        await tab.evaluate(
          `document.querySelector('button.layer[data-layer="${layer}"]').getAttribute('aria-pressed')`,
        ),
      ).toBe('true');
      const cells = await tab.evaluate<Cell[]>(CELLS);
      expect(cells.length).toBeGreaterThan(1);
      const files = FILES_BY_LAYER[layer] ?? [];
      for (const cell of cells) {
        const holds = files.some((f) => f === cell.path || f.startsWith(`${cell.path}/`));
        expect({ path: cell.path, hit: cell.hit, dim: cell.dim }).toEqual({
          path: cell.path,
          hit: holds,
          dim: !holds,
        });
      }
      expect(cells.some((c) => c.hit)).toBe(true);
      const removed = await tab.evaluate<string[]>(
        "[...document.querySelectorAll('#layer-removed li')].map((li) => li.dataset.path)",
      );
      expect(removed.sort()).toEqual(layer === 1 ? ['data/d1/a', 'data/d1/b', 'opt/tool'] : []);
      const wrote = await tab.evaluate<string[]>(
        "[...document.querySelectorAll('#layer-added li')].map((li) => li.dataset.path)",
      );
      expect(wrote.sort()).toEqual([...files].sort());
      const detail = await tab.evaluate<string>("document.getElementById('layer-detail').textContent");
      expect(detail).toContain(layer === 1 ? 'It removed:' : 'It removed nothing');

      // The screenshot shows it: at the root the big folder is painted in the highlight colour when the layer
      // wrote it and dimmed when not; a click on the layer's largest file zooms to its folder, where its cell
      // is highlighted. The page is a real picture (many colours), not a blank one.
      const pixelOf = async (path: string) => {
        await tab.evaluate("document.getElementById('treemap').scrollIntoView({ block: 'center' })");
        const cell = (await tab.evaluate<Cell[]>(CELLS)).find((c) => c.path === path) as Cell;
        const shot = await tab.screenshot();
        const pixels = readPng(shot);
        expect([pixels.width, pixels.height]).toEqual([1280, 1400]);
        expect(pixels.colours()).toBeGreaterThan(50);
        return { shot, pixel: pixels.at(cell.x + cell.w / 2, cell.y + cell.h / 2) };
      };
      const root = await pixelOf('big');
      writeFileSync(join(SHOT_DIR, `layers-${layer}.png`), root.shot);
      if (layer === 2) expect(root.pixel).toEqual(HIT);
      else expect(root.pixel).not.toEqual(HIT);
      const largest = files[0] as string;
      const item = await tab.evaluate<{ x: number; y: number }>(
        "(() => { const li = document.querySelector('#layer-added li'); li.scrollIntoView({ block: 'center' }); const r = li.getBoundingClientRect(); return { x: r.x + 20, y: r.y + r.height / 2 }; })()",
      );
      await tab.click(item.x, item.y);
      const crumbs = await tab.evaluate<string>("document.getElementById('crumbs').textContent");
      expect(crumbs.startsWith(`/${largest.slice(0, largest.lastIndexOf('/'))}`)).toBe(true);
      const zoomed = await pixelOf(largest);
      writeFileSync(join(SHOT_DIR, `layers-${layer}-zoomed.png`), zoomed.shot);
      expect(zoomed.pixel).toEqual(HIT);
      expect(tab.errors).toEqual([]);
    },
  );
});
