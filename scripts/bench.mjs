#!/usr/bin/env zx
// npm run bench [-- --rounds 5 --scale-rounds 2 --engines 20.10,26 --keep --quick --smoke | --render FILE [--also FILE...]]
// --keep leaves the bench images for the next run; --smoke uses tiny images to check the script itself.
// Runs on Engine 20.10 (/var/run/docker.sock) and on Docker 26 with the containerd image store
// (scripts/lib/modern-engine.mjs), one after the other, each interleaved round by round.
// Builds its own images (no registry), then times the tool against the docker CLI doing the same job,
// interleaved round by round, and writes BENCHMARKS.md. The machine is shared: read ratios, not seconds.
import { mkdir, readFile, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { minimist } from 'zx';
import { buildTestImages } from '../docker/build-test-images.mjs';
import { TEST_IMAGES } from '../docker/test-images.mjs';
import { BENCH_LABEL, benchSpec, ensureBenchImage, removeBenchImages } from './bench/bench-image.mjs';
import { fitLine, median, timed, timedSteps } from './bench/measure.mjs';
import { startRegistry } from './bench/registry.mjs';
import { renderReport } from './bench/report.mjs';
import { ensureModernEngine, MODERN_HOST } from './lib/modern-engine.mjs';
import { ensureCommands } from './lib/system-packages.mjs';

// Engine names stay text: minimist would read `--engines 20.10` as the number 20.1.
const argv = minimist(process.argv.slice(2), {
  string: ['engines', 'render', 'also'],
  boolean: ['keep', 'quick', 'smoke'],
});
const rounds = Number(argv.rounds ?? (argv.quick ? 1 : 5));
const scaleRounds = Number(argv['scale-rounds'] ?? (argv.quick ? 1 : 2));
const root = new URL('..', import.meta.url).pathname;
const outRoot = join(root, '.bench', 'out');
const trashRoot = join(root, '.bench', 'trash');
const log = (line) => console.error(`bench: ${line}`);

const smoke = Boolean(argv.smoke);
const MAIN = benchSpec(smoke ? 'smoke-main' : 'main', {
  bytes: smoke ? 20e6 : 310e6,
  files: smoke ? 2000 : 8600,
});
const SIZES = smoke
  ? [
      benchSpec('smoke-5mb', { bytes: 5e6, files: 2000 }),
      MAIN,
      benchSpec('size-1gb', { bytes: 40e6, files: 2000 }),
    ]
  : [
      benchSpec('size-30mb', { bytes: 30e6, files: 8600 }),
      MAIN,
      benchSpec('size-1gb', { bytes: 1000e6, files: 8600 }),
    ];
const COUNTS = (smoke ? [200, 1000, 2000] : [1000, 10_000, 100_000]).map((files) =>
  benchSpec(`files-${files / 1000}k`, { bytes: files * 1024, files, smallOnly: true }),
);

if (argv.render) {
  const others = await Promise.all(
    [argv.also ?? []].flat().map(async (file) => JSON.parse(await readFile(file, 'utf8'))),
  );
  const report = renderReport(JSON.parse(await readFile(argv.render, 'utf8')), others);
  await writeFile(join(root, 'BENCHMARKS.md'), report);
  console.log(report);
  process.exit(0);
}
const ENGINES = {
  '20.10': { name: 'Engine 20.10', host: 'unix:///var/run/docker.sock' },
  26: { name: 'Docker 26, containerd image store', host: MODERN_HOST },
};
const engineKeys = (argv.engines || '20.10,26').split(',');
await execa('npm', ['run', 'build'], { cwd: root, reject: false });
await execa('test', ['-f', join(root, 'dist/cli/main.js')]);
await buildTestImages({ log });
await ensureCommands({ 'docker-registry': 'docker-registry', skopeo: 'skopeo', umoci: 'umoci' }, { log });
const template = await readFile(join(root, 'templates/Dockerfile'), 'utf8');
if (await stat(trashRoot).catch(() => undefined)) await emptyTrash('an earlier bench left its trash');
let shellId;
/** The loopback registry of the source rounds, shared by the engines; the main image is pushed once. */
let registry;
let pushed = false;
/** Every bench image used on the current engine, to find what --cache kept for it. */
let benchImageIds = [];

const perEngine = [];
try {
  for (const key of engineKeys) {
    const engine = ENGINES[key];
    if (!engine) throw new Error(`--engines: unknown engine ${key} (20.10 or 26)`);
    if (key === '26') await ensureModernEngine({ log });
    if (key === '26') await copyToEngine(TEST_IMAGES.shell, engine.host);
    // The tool and every docker command below read it.
    process.env.DOCKER_HOST = engine.host;
    process.env.DOCKER_CONTEXT = '';
    shellId = await imageId(TEST_IMAGES.shell);
    benchImageIds = [];
    log(`engine: ${engine.name}`);
    perEngine.push({ engine: engine.name, ...(await benchEngine()) });
  }
} finally {
  await registry?.stop();
  await emptyTrash();
}
const all = { engines: perEngine };
await writeFile(
  join(root, '.bench', smoke ? 'results.smoke.json' : 'results.json'),
  JSON.stringify(all, null, 2),
);
const report = renderReport(all);
await writeFile(join(root, smoke ? '.bench/BENCHMARKS.smoke.md' : 'BENCHMARKS.md'), report);
console.log(report);

/** The whole bench on the engine DOCKER_HOST names. */
async function benchEngine() {
  const machine = await describeMachine();
  await cleanOutputs();
  log(`machine: ${machine.cpu}, ${machine.cores} cores, load ${machine.loadStart}`);
  try {
    const mainId = await ensureBenchImage(MAIN, { log });
    benchImageIds.push(mainId);
    const mainShape = await imageShape(mainId);
    log(
      `main image: ${(mainShape.bytes / 1e6).toFixed(0)} MB, ${mainShape.entries} entries, ${mainShape.layers} layers`,
    );

    // Fill the cache once, untimed: the timed cached runs are the repeated runs of the issue.
    await tool(mainId, 'warm-up', ['--cache']);
    const runs = {
      toolArticle: () => tool(mainId, 'tool-article', []),
      cliArticle: () => cliArticle(mainId, 'cli-article'),
      toolCached: () => tool(mainId, 'tool-cached', ['--cache']),
      toolFast: () => tool(mainId, 'tool-fast', ['--method', 'fast']),
      cliCp: () => cliCreateCp(mainId, 'cli-cp'),
      cliExport: () => cliCreateExport(mainId, 'cli-export'),
      saveToNull: () => streamToNull(['save', mainId]),
      exportToNull: () => withCreated(mainId, (id) => streamToNull(['export', id])),
    };
    const { samples, loads: roundLoads } = await interleaved(runs, rounds);
    const main = summarise(samples);
    const ratios = {
      article: ratioOfMedians(samples.toolArticle, samples.cliArticle),
      cached: ratioOfMedians(samples.toolCached, samples.cliArticle),
      fastVsExport: ratioOfMedians(samples.toolFast, samples.cliExport),
      fastVsCp: ratioOfMedians(samples.toolFast, samples.cliCp),
      saveVsExport: ratioOfMedians(samples.saveToNull, samples.exportToNull),
    };
    await removeToolImages();

    const scaling = { sizes: [], counts: [] };
    for (const [kind, specs] of [
      ['sizes', SIZES],
      ['counts', COUNTS],
    ]) {
      for (const spec of specs) {
        const id = spec === MAIN ? mainId : await ensureBenchImage(spec, { log });
        const shape = spec === MAIN ? mainShape : await imageShape(id);
        const point = {
          name: spec.name,
          ...shape,
          toolFast: [],
          toolArticle: [],
          cliExport: [],
          rssMiB: { toolFast: 0, toolArticle: 0 },
        };
        for (let round = 0; round < scaleRounds; round++) {
          for (const [name, run] of [
            ['toolFast', () => tool(id, 'scale-fast', ['--method', 'fast'])],
            ['cliExport', () => cliCreateExport(id, 'scale-export')],
            ['toolArticle', () => tool(id, 'scale-article', [])],
          ]) {
            const sample = await run();
            point[name].push(sample.seconds);
            if (name in point.rssMiB) point.rssMiB[name] = Math.max(point.rssMiB[name], sample.rssMiB);
            await cleanOutputs();
          }
        }
        log(
          `${spec.name}: fast ${median(point.toolFast).toFixed(2)}s, export ${median(point.cliExport).toFixed(2)}s, article ${median(point.toolArticle).toFixed(2)}s, peak RSS fast ${point.rssMiB.toolFast.toFixed(0)} MiB, article ${point.rssMiB.toolArticle.toFixed(0)} MiB`,
        );
        scaling[kind].push(point);
      }
    }
    const fits = {
      bytes: Object.fromEntries(
        ['toolFast', 'toolArticle', 'cliExport'].map((m) => [
          m,
          fitLine(scaling.sizes.map((p) => [p.bytes / 1e6, median(p[m])])),
        ]),
      ),
      entries: Object.fromEntries(
        ['toolFast', 'toolArticle', 'cliExport'].map((m) => [
          m,
          fitLine(scaling.counts.map((p) => [p.entries / 1000, median(p[m])])),
        ]),
      ),
    };
    const sources = await benchSources(mainId);
    machine.loadEnd = os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
    // Each round's own ratios: how often a target was met, not only whether the medians met it.
    const perRound = Array.from({ length: rounds }, (_, i) => ({
      load: roundLoads[i],
      article: samples.toolArticle[i].seconds / samples.cliArticle[i].seconds,
      cached: samples.toolCached[i].seconds / samples.cliArticle[i].seconds,
      fastVsExport: samples.toolFast[i].seconds / samples.cliExport[i].seconds,
      registryVsSkopeo: sources.samples.toolRegistry[i].seconds / sources.samples.skopeoUmoci[i].seconds,
      rssMiB: Math.max(
        samples.toolFast[i].rssMiB,
        samples.toolArticle[i].rssMiB,
        samples.toolCached[i].rssMiB,
      ),
    }));
    // Kept so the report can be written again without measuring again: npm run bench -- --render FILE.
    return { machine, rounds, scaleRounds, mainShape, main, ratios, perRound, scaling, fits, sources };
  } finally {
    await cleanOutputs();
    await removeToolImages();
    if (!argv.keep) await removeBenchImages();
  }
}

/** `docker save` on the main engine into `host`'s `docker load`, unless it holds the image already. */
async function copyToEngine(image, host) {
  const env = { ...process.env, DOCKER_HOST: host, DOCKER_CONTEXT: '' };
  if ((await execa('docker', ['image', 'inspect', image], { env, reject: false })).exitCode === 0) return;
  await execa('sh', ['-c', 'docker save "$1" | DOCKER_HOST="$2" docker load --quiet', 'sh', image, host], {
    env: { ...process.env, DOCKER_HOST: ENGINES['20.10'].host, DOCKER_CONTEXT: '' },
  });
}

/** The tool as a user runs it; no --label, which would cost its build one more step. */
async function tool(image, name, extra) {
  const output = join(outRoot, name);
  return timed(
    'node',
    [
      join(root, 'dist/cli/main.js'),
      'extract',
      image,
      '--output',
      output,
      '--base',
      shellId,
      '--pull',
      'never',
      '--quiet',
      ...extra,
    ],
    { cwd: root },
  );
}

/** The article's steps as a person types them: build, run, cp -a, rm, rmi (legacy builder, as the tool). */
async function cliArticle(image, name) {
  const tag = `distroless-contents-bench/cli-article:${process.pid}`;
  const container = `distroless-contents-bench-cli-${process.pid}`;
  const { renderDockerfile } = await import(join(root, 'dist/template.js'));
  // The article's Dockerfile with one LABEL step, as the tool's has (a bench label, so leftovers are found).
  const dockerfile = renderDockerfile({ image, base: shellId, labels: { [BENCH_LABEL]: 'cli' } }, template);
  const env = { DOCKER_BUILDKIT: '0' };
  try {
    return await timedSteps([
      // --no-cache: the image --cache keeps would otherwise lend its intermediate images to this build,
      // a cache a person typing the article's steps on their own does not have (the tool builds with nocache).
      () =>
        execa('docker', ['build', '--quiet', '--no-cache', '--tag', tag, '-'], { input: dockerfile, env }),
      // No bridge network on these engines; the tool runs its container the same way.
      () => execa('docker', ['run', '--network', 'none', '--name', container, tag]),
      () =>
        execa('docker', ['container', 'cp', '-a', `${container}:/distroless-contents`, join(outRoot, name)]),
      () => execa('docker', ['container', 'rm', container]),
      () => execa('docker', ['image', 'rm', tag]),
    ]);
  } catch (error) {
    await execa('docker', ['container', 'rm', '--force', container], { reject: false });
    await execa('docker', ['image', 'rm', '--force', tag], { reject: false });
    throw error;
  }
}

async function cliCreateCp(image, name) {
  let container;
  return timedSteps([
    async () => {
      container = (await execa('docker', ['create', image])).stdout.trim();
    },
    () => execa('docker', ['cp', `${container}:/`, join(outRoot, name)]),
    () => execa('docker', ['rm', container]),
  ]);
}

async function cliCreateExport(image, name) {
  let container;
  const output = join(outRoot, name);
  return timedSteps([
    async () => {
      container = (await execa('docker', ['create', image])).stdout.trim();
    },
    () => execa('mkdir', ['-p', output]),
    () => execa('sh', ['-c', 'docker export "$1" | tar -x -p -C "$2" -f -', 'sh', container, output]),
    () => execa('docker', ['rm', container]),
  ]);
}

/** What the engine alone spends producing a stream (the bound under any client). */
async function streamToNull(args) {
  return timedSteps([() => execa('sh', ['-c', 'docker "$@" > /dev/null', 'sh', ...args])]);
}

async function withCreated(image, fn) {
  const container = (await execa('docker', ['create', image])).stdout.trim();
  try {
    return await fn(container);
  } finally {
    await execa('docker', ['rm', container]);
  }
}

/** Runs each of `runs` once per round, in an order rotated each round; the samples and each round's load. */
async function interleaved(runs, count) {
  const names = Object.keys(runs);
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  /** The machine's 1-minute load at the start of each round (/proc/loadavg): the other work on it. */
  const loads = [];
  for (let round = 0; round < count; round++) {
    loads.push((await readFile('/proc/loadavg', 'utf8')).split(' ')[0]);
    // Rotate the order each round so no method always runs right after the same neighbour.
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const name of order) {
      samples[name].push(await runs[name]());
      await cleanOutputs();
    }
    log(
      `round ${round + 1}/${count}: ${names.map((n) => `${n} ${samples[n].at(-1).seconds.toFixed(2)}s`).join(', ')}`,
    );
  }
  return { samples, loads };
}

function summarise(samples) {
  return Object.fromEntries(
    Object.entries(samples).map(([name, runs]) => [
      name,
      {
        median: median(runs.map((s) => s.seconds)),
        seconds: runs.map((s) => s.seconds),
        rssMiB: Math.max(0, ...runs.map((s) => s.rssMiB ?? 0)),
      },
    ]),
  );
}

/**
 * The engine-less docker:// source against what a user without it would run: `skopeo copy` + `umoci
 * unpack` of the same image from the same loopback registry, and `docker pull` + `--method fast`. A pull
 * downloads nothing for layers the engine holds, so the main image leaves the engine first (with --keep
 * it is pulled back under its tag at the end).
 */
async function benchSources(mainId) {
  registry ??= await startRegistry(join(root, '.bench', 'registry'));
  const remote = `${registry.host}/distroless-contents-bench/main:latest`;
  if (!pushed) {
    await execa('docker', ['tag', mainId, remote]);
    await execa('docker', ['push', '--quiet', remote]);
    pushed = true;
  }
  await execa('docker', ['image', 'rm', '--force', mainId]);
  const cli = join(root, 'dist/cli/main.js');
  const runs = {
    toolRegistry: () =>
      timed(
        'node',
        [cli, 'extract', `docker://${remote}`, '--output', join(outRoot, 'registry'), '--quiet'],
        {
          cwd: root,
        },
      ),
    skopeoUmoci: () => {
      const layout = join(outRoot, 'skopeo-layout');
      return timedSteps([
        () =>
          execa('skopeo', [
            'copy',
            '--quiet',
            '--src-tls-verify=false',
            `docker://${remote}`,
            `oci:${layout}:bench`,
          ]),
        () => execa('umoci', ['unpack', '--image', `${layout}:bench`, join(outRoot, 'umoci-bundle')]),
      ]);
    },
    pullFast: () =>
      timedSteps([
        async () => {
          const { stdout } = await execa('docker', ['pull', remote]);
          // A layer the engine holds is not downloaded: the comparison would flatter the pull.
          if (/Already exists/.test(stdout)) log(`warning: docker pull ${remote} found layers in the engine`);
        },
        () =>
          execa(
            'node',
            [
              cli,
              'extract',
              remote,
              '--method',
              'fast',
              '--output',
              join(outRoot, 'pulled'),
              '--quiet',
              '--pull',
              'never',
            ],
            {
              cwd: root,
            },
          ),
        () => execa('docker', ['image', 'rm', remote]),
      ]),
  };
  log(`sources: docker://${remote}, skopeo copy + umoci unpack, docker pull + --method fast`);
  const { samples } = await interleaved(runs, rounds);
  if (argv.keep) {
    await execa('docker', ['pull', '--quiet', remote]);
    await execa('docker', ['tag', remote, MAIN.tag]);
    await execa('docker', ['image', 'rm', remote]);
  }
  return {
    samples,
    main: summarise(samples),
    ratios: {
      registryVsSkopeo: ratioOfMedians(samples.toolRegistry, samples.skopeoUmoci),
      registryVsPullFast: ratioOfMedians(samples.toolRegistry, samples.pullFast),
    },
  };
}

function ratioOfMedians(tool, cli) {
  return median(tool.map((s) => s.seconds)) / median(cli.map((s) => s.seconds));
}

/**
 * Moves the last run's trees aside instead of deleting them. On ext4 without a journal (this machine kind's
 * root), a file made within 60 s of a deletion (300 s while the inode table is unwritten) skips every recently
 * freed inode one by one: right after removing 8,000 files, writing 8,000 again cost 4-5 s of system time
 * instead of 0.4, for whichever method ran next.
 */
async function cleanOutputs() {
  await mkdir(trashRoot, { recursive: true });
  await rename(outRoot, join(trashRoot, `${Date.now()}-${Math.random().toString(36).slice(2)}`)).catch(
    (error) => {
      if (error.code !== 'ENOENT') throw error;
    },
  );
  await mkdir(outRoot, { recursive: true });
  const { bavail, bsize } = await statfs(root);
  if (bavail * bsize < 20e9) await emptyTrash('disk below 20 GB free');
}

/** With a reason, waits out the window above so the next run does not pay for this deletion. */
async function emptyTrash(settleBecause) {
  await rm(trashRoot, { recursive: true, force: true });
  if (!settleBecause) return;
  log(`${settleBecause}: emptied the trash of earlier runs; waiting 65 s until ext4 reuses their inodes`);
  await execa('sync');
  await sleep(65_000);
}

/** What --cache kept for the bench's images: found by the cache key, which names them and the base. */
async function removeToolImages() {
  const { cacheKey, CACHE_LABEL } = await import(join(root, 'dist/extract/cache.js'));
  const { renderDockerfile } = await import(join(root, 'dist/template.js'));
  const { TOOL_LABEL, TOOL_NAME } = await import(join(root, 'dist/labels.js'));
  for (const id of benchImageIds) {
    const key = cacheKey(
      renderDockerfile({ image: id, base: shellId, labels: { [TOOL_LABEL]: TOOL_NAME } }),
      undefined,
    );
    const { stdout } = await execa('docker', ['images', '-q', '--filter', `label=${CACHE_LABEL}=${key}`]);
    const ids = [...new Set(stdout.split('\n').filter(Boolean))];
    if (ids.length > 0) await execa('docker', ['image', 'rm', '--force', ...ids], { reject: false });
  }
}

async function imageId(name) {
  return (await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', name])).stdout.trim();
}

/** Bytes and entries of the image's final tree, counted from a fast dump (the tool's own count). */
async function imageShape(id) {
  const output = join(outRoot, 'shape');
  const { stdout } = await execa(
    'node',
    [
      join(root, 'dist/cli/main.js'),
      'extract',
      id,
      '--output',
      output,
      '--method',
      'fast',
      '--json',
      '--quiet',
      '--pull',
      'never',
    ],
    { cwd: root },
  );
  await cleanOutputs();
  const { counts } = JSON.parse(stdout);
  const layers = JSON.parse(
    (await execa('docker', ['image', 'inspect', '--format', '{{json .RootFS.Layers}}', id])).stdout,
  ).length;
  return { bytes: counts.bytes, entries: counts.entries, layers };
}

async function describeMachine() {
  const docker = JSON.parse((await execa('docker', ['info', '--format', '{{json .}}'])).stdout);
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    kernel: os.release(),
    engine: docker.ServerVersion,
    storageDriver: docker.Driver,
    dockerRoot: docker.DockerRootDir,
    cgroup: docker.CgroupVersion,
    node: process.version,
    tar: (await execa('tar', ['--version'])).stdout.split('\n')[0],
    cli: (await execa('docker', ['version', '--format', '{{.Client.Version}}'])).stdout.trim(),
    filesystem: (await execa('df', ['--output=fstype', root])).stdout.split('\n')[1]?.trim(),
    commit: `${(await execa('git', ['rev-parse', '--short', 'HEAD'], { cwd: root })).stdout.trim()}${(await execa('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root })).stdout.trim() ? ' with uncommitted changes' : ''}`,
    loadStart: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    date: new Date().toISOString(),
  };
}
