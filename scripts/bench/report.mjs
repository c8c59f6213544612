import { median } from './measure.mjs';

const s = (seconds) => `${seconds.toFixed(2)} s`;
const x = (ratio) => ratio.toFixed(2);
const mb = (bytes) => `${(bytes / 1e6).toFixed(0)} MB`;

/** A target line: met, or missed and by how much. */
function target(ratio, limit) {
  return ratio <= limit
    ? `met (${x(ratio)} ≤ ${limit})`
    : `**missed** by ${(((ratio - limit) / limit) * 100).toFixed(0)}% (${x(ratio)} > ${limit})`;
}

/** BENCHMARKS.md from one run of scripts/bench.mjs. */
export function renderReport({ machine, rounds, scaleRounds, mainShape, main, ratios, scaling, fits }) {
  const gig = scaling.sizes.find((p) => p.name === 'size-1gb');
  const peak = gig ? Math.max(gig.rssMiB.toolFast, gig.rssMiB.toolArticle) : Number.NaN;
  const lines = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (scripts/bench.mjs); every number below comes from one run of it. The',
    'machine is shared with other work, so seconds wander: the ratios compare runs interleaved round by',
    'round in the same session, which is what the targets are about.',
    '',
    '## Machine',
    '',
    '| | |',
    '| --- | --- |',
    `| CPU | ${machine.cpu}, ${machine.cores} cores |`,
    `| Memory | ${machine.memoryGiB} GiB |`,
    `| Kernel | ${machine.kernel} |`,
    `| Engine | Docker ${machine.engine} (CLI ${machine.cli}), storage driver ${machine.storageDriver}, cgroup v${machine.cgroup} |`,
    `| Output filesystem | ${machine.filesystem} (the engine's ${machine.dockerRoot} is on the same disk) |`,
    `| Node, tar | ${machine.node}, ${machine.tar} |`,
    `| Load average (1, 5, 15 min) | ${machine.loadStart} at the start, ${machine.loadEnd} at the end |`,
    `| Date | ${machine.date} |`,
    '',
    '## Tool against the docker CLI',
    '',
    `Image: built by the bench itself (docker load of two layers written here), ${mb(mainShape.bytes)} in`,
    `${mainShape.entries} entries, ${mainShape.layers} layers; the upper layer deletes a tenth of the files, two`,
    'directories and makes one directory opaque. Median of',
    `${rounds} interleaved rounds. The tool runs as \`node dist/cli/main.js extract\` and always reads the manifest`,
    '(SHA-256 of every file) as well; the CLI commands do not.',
    '',
    '| What | Tool | CLI | Tool / CLI | Target |',
    '| --- | --- | --- | --- | --- |',
    `| Article method vs the article's steps (build, run, cp -a, rm, rmi) | ${s(main.toolArticle.median)} | ${s(main.cliArticle.median)} | ${x(ratios.article)} | ${target(ratios.article, 1.0)} |`,
    `| Article method, repeated with \`--cache\`, vs the same CLI steps | ${s(main.toolCached.median)} | ${s(main.cliArticle.median)} | ${x(ratios.cached)} | ${target(ratios.cached, 0.3)} |`,
    `| \`--method fast\` vs \`docker create\` + \`docker export \\| tar -x -p\` | ${s(main.toolFast.median)} | ${s(main.cliExport.median)} | ${x(ratios.fastVsExport)} | ${target(ratios.fastVsExport, 1.0)} |`,
    `| \`--method fast\` vs \`docker create\` + \`docker cp\` | ${s(main.toolFast.median)} | ${s(main.cliCp.median)} | ${x(ratios.fastVsCp)} | ${target(ratios.fastVsCp, 0.8)} |`,
    '',
    'What the engine alone spends making each stream, read to /dev/null (same rounds):',
    '',
    '| Stream | Median | Ratio |',
    '| --- | --- | --- |',
    `| \`docker save\` of the image (what --method fast reads) | ${s(main.saveToNull.median)} | ${x(ratios.saveVsExport)} × export |`,
    `| \`docker export\` of a created container (what export \\| tar reads) | ${s(main.exportToNull.median)} | 1.00 |`,
    '',
    '## Peak resident memory of the tool',
    '',
    '`/usr/bin/time -f %M` around the tool process (GNU tar, a child, is smaller).',
    '',
    '| Run | Peak RSS |',
    '| --- | --- |',
    `| Article method, main image | ${main.toolArticle.rssMiB.toFixed(0)} MiB |`,
    `| Article method with cache, main image | ${main.toolCached.rssMiB.toFixed(0)} MiB |`,
    `| Fast method, main image | ${main.toolFast.rssMiB.toFixed(0)} MiB |`,
    ...(gig
      ? [
          `| Article method, ${mb(gig.bytes)} image | ${gig.rssMiB.toolArticle.toFixed(0)} MiB |`,
          `| Fast method, ${mb(gig.bytes)} image | ${gig.rssMiB.toolFast.toFixed(0)} MiB |`,
          '',
          `Target: at most 150 MiB on the 1 GB image: ${peak <= 150 ? `met (${peak.toFixed(0)} MiB)` : `**missed** (${peak.toFixed(0)} MiB)`}.`,
        ]
      : []),
    '',
    '## How time grows',
    '',
    `Median of ${scaleRounds} interleaved rounds per image; same two-layer shape, whiteouts included.`,
    '',
    '### With size (entries fixed)',
    '',
    ...scalingTable(scaling.sizes),
    '',
    fitLine('bytes', 'MB', fits.bytes),
    '',
    '### With entry count (small files)',
    '',
    ...scalingTable(scaling.counts),
    '',
    fitLine('entries', '1,000 entries', fits.entries),
    '',
    '## Raw samples (seconds, main image)',
    '',
    '| Run | Samples |',
    '| --- | --- |',
    ...Object.entries(main).map(
      ([name, m]) => `| ${name} | ${m.seconds.map((v) => v.toFixed(2)).join(', ')} |`,
    ),
    '',
  ];
  return `${lines.join('\n')}\n`;
}

function scalingTable(points) {
  return [
    '| Image | Bytes | Entries | Fast | export \\| tar | Article | Fast / export |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...points.map((p) => {
      const fast = median(p.toolFast);
      const exp = median(p.cliExport);
      return `| ${p.name} | ${mb(p.bytes)} | ${p.entries} | ${s(fast)} | ${s(exp)} | ${s(median(p.toolArticle))} | ${x(fast / exp)} |`;
    }),
  ];
}

function fitLine(what, unit, fits) {
  const describe = (name, fit) =>
    `${name} ${fit.slope.toFixed(3)} s per ${unit} + ${fit.intercept.toFixed(2)} s (R² ${fit.r2.toFixed(3)})`;
  return `Least-squares line in ${what}: ${describe('fast', fits.toolFast)}; ${describe('article', fits.toolArticle)}; ${describe('export | tar', fits.cliExport)}.`;
}
