import { describe, expect, it } from 'vitest';
import { formatReportHtml } from '../../src/inspect/format-html.js';
import { formatLayersText } from '../../src/inspect/format-layers-text.js';
import type { LayerReport } from '../../src/inspect/layers.js';
import { reportFor } from '../../src/inspect/report.js';
import type { Target } from '../../src/inspect/target.js';
import { visibleLines } from '../../src/text/visible.js';
import { rawHidden } from '../support/raw-hidden.js';

// A history step's created_by is the image's own text: the table shows it on one line, cut to fit, and
// never raw (an escape sequence in a Dockerfile RUN line must not reach the terminal or act on the page).

const HOSTILE = 'RUN \x1b]2;owned\x07 echo \u202eevil\nsecond line';
const change = { files: 1, bytes: 10 };
const layers: LayerReport = {
  layers: [
    {
      index: 0,
      diff_id: 'sha256:a',
      created_by: HOSTILE,
      size: 10,
      added: change,
      changed: change,
      deleted: change,
      wasted: 0,
      removed: [],
      entries: 1,
    },
    { created_by: 'ENV A=1', empty_layer: true, size: 0, entries: 0 },
    { index: 1, diff_id: 'sha256:b', created_by: `RUN ${'x'.repeat(200)}`, size: 0, entries: 0 },
  ],
  bytes: 10,
  wasted: 0,
  efficiency: { score: 1, minimum_bytes: 10, discovered_bytes: 10, wasted_bytes: 0 },
  userBytes: 0,
  wastedUserShare: null,
};

describe('the layer table', () => {
  it('shows created_by on one line, hidden characters escaped, long ones cut', () => {
    const text = visibleLines(formatLayersText(layers).join('\n'));
    expect(text.split('\n').flatMap(rawHidden)).toEqual([]);
    const [, first, empty, long] = text.split('\n');
    expect(first).toContain("$'\\e]2;owned\\a'");
    expect(first).toContain('second line');
    expect(empty).toMatch(/^\s+-\s+empty\s+ENV A=1$/);
    expect(long?.endsWith('…')).toBe(true);
    expect(long?.length).toBeLessThan(140);
  });

  it('marks them in the page instead of writing them raw', async () => {
    const { entries: _e, ...first } = layers.layers[0] as LayerReport['layers'][number];
    const target: Target = {
      kind: 'manifest',
      spec: 'x.json',
      manifestPath: '/x.json',
      folder: null,
      image: {
        reference: 'x',
        id: 'sha256:x',
        platform: 'linux/amd64',
        user: '',
        workdir: '',
        env: [],
        entrypoint: null,
        cmd: null,
        layers: [first],
        efficiency: layers.efficiency,
      },
      entries: [],
      ownersFrom: 'manifest',
      notes: [],
    };
    const html = formatReportHtml(await reportFor(target, { layers: true }), []);
    expect(html.split('\n').flatMap(rawHidden)).toEqual([]);
    expect(html).toContain(
      '<span class="by">RUN <span class="esc">\\e</span>]2;owned<span class="esc">\\a</span>',
    );
  });

  it.each([
    ['a created_by that is no string', { created_by: 5 }],
    ['a layer without its added files', { added: undefined }],
    ['removed that is no list', { removed: null }],
    ['a negative size', { size: -1 }],
  ])('refuses a layer record with %s, in one line', async (_what, edit) => {
    const { entries: _e, ...first } = layers.layers[0] as LayerReport['layers'][number];
    const target = {
      kind: 'manifest',
      spec: 'edited.json',
      manifestPath: '/edited.json',
      folder: null,
      image: { reference: 'x', layers: [{ ...first, ...edit }], efficiency: layers.efficiency },
      entries: [],
      ownersFrom: 'manifest',
      notes: [],
    } as unknown as Target;
    await expect(reportFor(target, { layers: true })).rejects.toThrow(
      /^Cannot show --layers for edited\.json: its manifest's image\.layers or image\.efficiency is not as extract writes them; dump the image again\.$/,
    );
  });

  it('refuses layer records that are not as extract writes them, in one line', async () => {
    const target = {
      kind: 'manifest',
      spec: 'edited.json',
      manifestPath: '/edited.json',
      folder: null,
      image: { reference: 'x', layers: [{ created_by: 'x' }], efficiency: layers.efficiency },
      entries: [],
      ownersFrom: 'manifest',
      notes: [],
    } as unknown as Target;
    await expect(reportFor(target, { layers: true })).rejects.toThrow(
      /^Cannot show --layers for edited\.json: its manifest's image\.layers or image\.efficiency is not as extract writes them; dump the image again\.$/,
    );
  });
});
