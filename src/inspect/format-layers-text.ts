import { humanSize } from './human-size.js';
import type { LayerReport } from './layers.js';
import { textTable } from './text-table.js';

/** Longest created-by shown in the table; the JSON and the page have it whole. */
const CREATED_BY_WIDTH = 72;

/** The `--layers` section: one row per history step, then the totals and dive's score. */
export function formatLayersText(report: LayerReport): string[] {
  const change = (files: number | undefined, bytes: number | undefined) =>
    files === undefined ? '' : `${files} (${humanSize(bytes ?? 0)})`;
  const rows = report.layers.map((layer) => [
    layer.index === undefined ? '-' : String(layer.index),
    layer.empty_layer ? 'empty' : humanSize(layer.size),
    change(layer.added?.files, layer.added?.bytes),
    change(layer.changed?.files, layer.changed?.bytes),
    change(layer.deleted?.files, layer.deleted?.bytes),
    layer.wasted === undefined ? '' : humanSize(layer.wasted),
    createdBy(layer.created_by),
  ]);
  const { efficiency: e } = report;
  const userShare =
    report.wastedUserShare === null
      ? ''
      : `, ${(report.wastedUserShare * 100).toFixed(1)}% of the user layers`;
  return [
    ...textTable(
      [
        { header: '#', align: 'right' },
        { header: 'SIZE', align: 'right' },
        { header: 'ADDED', align: 'right' },
        { header: 'CHANGED', align: 'right' },
        { header: 'DELETED', align: 'right' },
        { header: 'WASTED', align: 'right' },
        { header: 'CREATED BY' },
      ],
      rows,
    ),
    `  ${humanSize(report.bytes)} in layers (${report.bytes} bytes of regular-file members), ${humanSize(report.wasted)} wasted (${report.wasted} bytes overwritten or removed by a later layer)`,
    `  efficiency ${(e.score * 100).toFixed(2)}% as dive scores it (${e.minimum_bytes} of ${e.discovered_bytes} bytes); dive's wasted bytes ${humanSize(e.wasted_bytes)} (${e.wasted_bytes} bytes, each copy counted${userShare})`,
  ];
}

function createdBy(text: string | undefined): string {
  if (text === undefined) return '(no history)';
  // By code points, so a cut never splits a character; hidden ones are made visible with the whole report.
  const line = [...text.replace(/\s+/g, ' ').trim()];
  return line.length > CREATED_BY_WIDTH ? `${line.slice(0, CREATED_BY_WIDTH - 1).join('')}…` : line.join('');
}
