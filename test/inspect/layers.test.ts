import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LayerReport } from '../../src/inspect/layers.js';
import type { Manifest } from '../../src/manifest.js';
import { runCli } from '../support/cli.js';
import { type EngineName, openEngine, type TestEngine } from '../support/engines.js';
import { oracleEfficiency, oracleLayers } from '../support/layer-oracle.js';
import { BIG, HISTORY, LAYERS, writeLayersImage } from '../support/layers-image.js';
import { testLabel } from '../support/leftovers.js';

// report --layers on an image whose layer facts the test knows from the members it wrote (layers-image.ts),
// dumped by the fast method on Engine 20.10 and on Docker 26 (containerd store), and from an oci: layout
// with no engine. Expected bytes come from layer-oracle.ts, which reads the members, never the tool.

const label = testLabel();
const tag = `distroless-contents-test/layers:${label.value.slice(0, 8)}`;
let work: string;
let archive: string;
let diffIds: string[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-layers-'));
  ({ archive, diffIds } = await writeLayersImage(work, tag, label.value));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const oracle = oracleLayers(LAYERS);
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** What every source must say of this image: the report's layers and the manifest's records. */
function expectKnownFacts(manifest: Manifest, report: LayerReport): void {
  // The oracle's own numbers first, so a wrong fixture cannot pass unnoticed: the overwritten config,
  // the deleted folder, the opaque folder's old files and the chowned blob are layer 0's waste.
  expect(oracle).toEqual([
    { size: 1000 + 4000 + 2500 + 300 + 700 + 11 + BIG, wasted: 1000 + 4000 + 2500 + 300 + 700 + BIG },
    { size: 1500 + 50, wasted: 0 },
    { size: BIG, wasted: 0 },
  ]);
  const layers = report.layers;
  expect(layers.map((l) => [l.created_by, l.empty_layer ?? false])).toEqual(
    HISTORY.map((h) => [h.created_by, h.empty_layer ?? false]),
  );
  const real = layers.filter((l) => !l.empty_layer);
  expect(real.map((l) => l.diff_id)).toEqual(diffIds);
  expect(real.map((l) => l.index)).toEqual([0, 1, 2]);
  expect(real.map((l) => ({ size: l.size, wasted: l.wasted }))).toEqual(oracle);
  expect(layers.filter((l) => l.empty_layer).map((l) => l.size)).toEqual([0, 0, 0]);
  expect(report.bytes).toBe(sum(oracle.map((l) => l.size)));
  expect(report.wasted).toBe(sum(oracle.map((l) => l.wasted)));
  // What the image holds is what the layers wrote, less what was wasted.
  const fileBytes = sum(manifest.entries.filter((e) => e.type === 'file').map((e) => e.size));
  expect(fileBytes).toBe(report.bytes - report.wasted);
  expect(real[1]).toMatchObject({
    added: { files: 1, bytes: 50 },
    changed: { files: 1, bytes: 1500 },
    deleted: { files: 4, bytes: 4000 + 2500 + 300 + 700 },
  });
  expect(real[1]?.removed).toEqual(
    expect.arrayContaining([
      { path: 'opt/tool', files: 2, bytes: 6500 },
      { path: 'data/d1/a', files: 1, bytes: 300 },
      { path: 'data/d1/b', files: 1, bytes: 700 },
    ]),
  );
  expect(real[2]).toMatchObject({ changed: { files: 1, bytes: BIG }, added: { files: 0, bytes: 0 } });
  expect(report.efficiency).toEqual(oracleEfficiency(LAYERS));
  // dive counts the chowned blob twice: both copies are in its wasted bytes.
  expect(report.efficiency.wasted_bytes).toBe(2 * BIG + 1000 + 1500);
  const layerOf = new Map(manifest.entries.map((e) => [e.path, e.layer]));
  expect(
    Object.fromEntries(
      ['etc/config', 'big/blob', 'data/keep', 'data/d1/c', 'data/d1', 'opt'].map((p) => [p, layerOf.get(p)]),
    ),
  ).toEqual({
    'etc/config': 1,
    'big/blob': 2,
    'data/keep': 0,
    'data/d1/c': 1,
    'data/d1': 1,
    opt: 1,
  });
  expect(manifest.entries.every((e) => typeof e.layer === 'number')).toBe(true);
}

async function dumpAndReport(source: string, name: string, env: Record<string, string> = {}) {
  const output = join(work, name);
  const extracted = await runCli(
    ['extract', source, '--method', 'fast', '-o', output, '--manifest', `${output}.json`, '-q'],
    { env },
  );
  expect(extracted.stderr).toBe('');
  expect(extracted.exitCode).toBe(0);
  const manifest = JSON.parse(await readFile(`${output}.json`, 'utf8')) as Manifest;
  // The dump folder alone: the manifest beside it has what --layers needs, no engine is asked.
  const reported = await runCli(['report', output, '--layers', '--json'], {
    env: { DOCKER_HOST: 'unix:///nonexistent.sock' },
  });
  expect(reported.stderr).toBe('');
  expect(reported.exitCode).toBe(0);
  return { manifest, report: JSON.parse(String(reported.stdout)).layers as LayerReport, output };
}

describe.each<EngineName>(['docker-20.10', 'docker-26-containerd'])('report --layers on %s', (name) => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await openEngine(name);
    await execa('docker', ['load', '--quiet', '--input', archive], {
      env: { ...process.env, ...engine.env },
    });
  });
  afterAll(async () => {
    await engine?.docker
      .getImage(tag)
      .remove({ force: true })
      .catch(() => {});
    await engine?.close();
  });

  it('gives each layer its bytes, changes and wasted bytes, to the byte, from a fast dump', async () => {
    const { manifest, report } = await dumpAndReport(tag, `dump-${name}`, engine.env);
    expectKnownFacts(manifest, report);
    expect(manifest.image.layers).toEqual(report.layers.map(({ entries: _entries, ...layer }) => layer));
  });

  it('dumps an image target with the fast method first, and prints the table', async () => {
    const result = await runCli(['report', tag, '--layers', '-q'], { env: engine.env });
    expect(result.exitCode).toBe(0);
    const text = String(result.stdout);
    expect(text).toContain('Layers (3, and 3 empty steps in the history)');
    expect(text).toMatch(
      /^\s+0\s+2\.0M\s+7 \(2\.0M\)\s+0 \(0\)\s+0 \(0\)\s+2\.0M\s+ADD base\.tar \/ # layers test$/m,
    );
    expect(text).toMatch(/^\s+-\s+empty\s+ENV LAYERS=1$/m);
    expect(text).toContain(
      `efficiency ${(oracleEfficiency(LAYERS).score * 100).toFixed(2)}% as dive scores it`,
    );
  });
});

describe('report --layers on an oci: layout', () => {
  it('gives the same layer facts with no engine', async () => {
    const layout = join(work, 'layout');
    await execa('skopeo', ['copy', '-q', `docker-archive:${archive}`, `oci:${layout}:layers`]);
    const { manifest, report } = await dumpAndReport(`oci:${layout}:layers`, 'dump-oci', {
      DOCKER_HOST: 'unix:///nonexistent.sock',
    });
    expectKnownFacts(manifest, report);
  });
});

describe('report --layers on a dump without layer records', () => {
  it('is a usage error that says how to get them', async () => {
    const output = join(work, 'scanned');
    const extracted = await runCli(['extract', `docker-archive:${archive}`, '-o', output, '-q']);
    expect(extracted.exitCode).toBe(0);
    const result = await runCli(['report', output, '--layers']);
    expect(result.exitCode).toBe(2);
    expect(String(result.stderr)).toMatch(
      /Cannot show --layers for .*scanned: a scanned folder has no manifest.*--method fast/,
    );
  });
});
