import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { ensureBigImage } from '../support/big-image.js';
import { runCli } from '../support/cli.js';
import { added, type Inventory, takeInventory } from '../support/inventory.js';
import { TEST_LABEL, testLabel } from '../support/leftovers.js';
import { type OwnEngine, type OwnEngineOptions, startOwnEngine } from './own-engine.js';
import { type SilentRegistry, startSilentRegistry } from './silent-registry.js';
import { ensureSlowShellImage } from './slow-shell-image.js';

// Nothing left behind, proven on the engine's whole inventory (every container, image, volume and the build
// cache) before and after each run, on an engine this file owns: no parallel test can blur the count, and
// what the engine makes without a label (the legacy builder's intermediate images) is counted too.
// One suite, run on each engine by a test file of its own (nothing-left-*.test.ts).

/** The whole suite on an engine started with `engineOptions`. */
export function nothingLeftSuite(engineOptions: OwnEngineOptions): void {
  let engine: OwnEngine;
  let docker: Docker;
  let env: Record<string, string>;
  let work: string;
  let registry: SilentRegistry;
  const BAD_BASE = 'distroless-contents-test/file-in-the-way:latest';

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'dc-nothing-left-'));
    const [big, slowShell] = await Promise.all([ensureBigImage(), ensureSlowShellImage()]);
    engine = await startOwnEngine(engineOptions);
    env = { DOCKER_HOST: engine.host, DOCKER_CONTEXT: '' };
    docker = new Docker({ socketPath: engine.host.replace(/^unix:\/\//, '') });
    for (const image of [TEST_IMAGES.shell, TEST_IMAGES.staticNonroot, big, slowShell])
      await engine.copyImage(image);
    // A base whose /distroless-contents is a file: the build's COPY fails inside the stream (HTTP 200).
    const context = join(work, 'bad-base');
    await mkdir(context);
    await writeFile(
      join(context, 'Dockerfile'),
      `FROM ${TEST_IMAGES.shell}\nRUN echo x > /distroless-contents\n`,
    );
    await execa('docker', ['build', '-q', '--network', 'none', '-t', BAD_BASE, context], {
      env: { ...env, DOCKER_BUILDKIT: '0' },
    });
    registry = await startSilentRegistry();
  }, 900_000);

  afterAll(async () => {
    await registry?.close();
    await engine?.remove();
    await rm(work, { recursive: true, force: true });
  });

  /** Images carrying a test's label: the generated Dockerfile's first step gives every later one the run's labels. */
  async function labelledImages(label: string): Promise<number> {
    const filters = JSON.stringify({ label: [`${TEST_LABEL}=${label}`] });
    return (await docker.listImages({ all: true, filters })).length;
  }

  /** How many mount points the engine has below a folder (its layers being written, its containers' roots). */
  async function mountsBelow(dir: string): Promise<number> {
    const { stdout } = await execa('findmnt', ['--list', '--noheadings', '--output', 'TARGET'], {
      reject: false,
    });
    return stdout.split('\n').filter((target) => target.trim().startsWith(`${dir}/`)).length;
  }

  /** Once two images of the run exist (the LABEL and ENV steps), its COPY step is under way. */
  const copyStepUnderway = (label: string) => async () => (await labelledImages(label)) >= 2;

  /** Starts the CLI on the own engine and sends `signal` once stderr shows `trigger` and `ready` holds. */
  async function interrupt(
    args: readonly string[],
    trigger: string,
    signal: NodeJS.Signals,
    ready: () => boolean | Promise<boolean> = () => true,
  ) {
    const child = runCli(args, { env });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    let sent = false;
    let checking = false;
    const poll = setInterval(async () => {
      if (sent || checking || !stderr.includes(trigger)) return;
      checking = true;
      try {
        if (await ready()) {
          sent = true;
          child.kill(signal);
        }
      } finally {
        checking = false;
      }
    }, 100);
    try {
      return { result: await child, sent };
    } finally {
      clearInterval(poll);
    }
  }

  /**
   * The inventory equals `before`; after `settleMs` in case the engine was still finishing a step. With
   * `kept`, the leases it explains (of an engine request the run cut: see below) may stay.
   */
  async function expectInventory(before: Inventory, settleMs = 0, kept?: KeptLease): Promise<void> {
    if (settleMs) await sleep(settleMs);
    const taken = await takeInventory(docker, engine.storeInventory);
    const after = kept ? withoutKeptLeases(before, taken, kept) : taken;
    expect(added(before, after), 'left behind').toEqual([]);
    expect(after).toEqual(before);
  }

  interface Scenario {
    readonly method: 'article' | 'fast';
    readonly step: 'pull' | 'build' | 'run' | 'copy';
    readonly args: () => string[];
    readonly trigger: string;
    readonly ready?: (label: string) => () => boolean | Promise<boolean>;
  }

  const pull = (method: 'article' | 'fast'): Scenario => ({
    method,
    step: 'pull',
    args: () => [`${registry.host}/hangs/${method}:1`, '--base', TEST_IMAGES.shell],
    trigger: 'pulling',
    ready: () => () => registry.requests().some((line) => line.includes(`/v2/hangs/${method}/manifests/`)),
  });

  const SCENARIOS: readonly Scenario[] = [
    pull('article'),
    {
      method: 'article',
      step: 'build',
      args: () => ['distroless-contents-test/big:latest', '--base', TEST_IMAGES.shell, '--pull', 'never'],
      trigger: 'building',
      ready: copyStepUnderway,
    },
    {
      method: 'article',
      step: 'run',
      args: () => [
        TEST_IMAGES.staticNonroot,
        '--base',
        'distroless-contents-test/slow-shell:latest',
        '--pull',
        'never',
      ],
      trigger: 'running',
    },
    {
      method: 'article',
      step: 'copy',
      args: () => ['distroless-contents-test/big:latest', '--base', TEST_IMAGES.shell, '--pull', 'never'],
      trigger: 'copying',
    },
    pull('fast'),
    {
      method: 'fast',
      step: 'copy',
      args: () => ['distroless-contents-test/big:latest', '--pull', 'never'],
      trigger: 'copying',
    },
  ];

  describe.each(SCENARIOS)('$method method, $step step', (scenario) => {
    it.each([
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const)(
      '%s exits %i and leaves the inventory and the folder as they were',
      async (signal, exitCode) => {
        const before = await takeInventory(docker, engine.storeInventory);
        const dir = join(work, `${scenario.method}-${scenario.step}-${signal}`);
        await mkdir(dir);
        const label = testLabel();
        const { result, sent } = await interrupt(
          [
            'extract',
            ...scenario.args(),
            '--method',
            scenario.method,
            '-o',
            join(dir, 'out'),
            '--label',
            label.arg,
          ],
          scenario.trigger,
          signal,
          scenario.ready?.(label.value),
        );
        const stderr = String(result.stderr);
        expect(sent, stderr).toBe(true);
        expect(result.exitCode, stderr).toBe(exitCode);
        expect(stderr).toContain(`error: Interrupted by ${signal}`);
        expect(await readdir(dir)).toEqual([]);
        // The build's step under way when the signal came would commit its image after the tool's exit.
        // A pull and a docker save are requests the engine's containerd store leases; the run cuts them.
        const kept =
          scenario.step === 'pull'
            ? leaseOfCancelledPull
            : scenario.method === 'fast'
              ? leaseOfCancelledSave
              : undefined;
        await expectInventory(before, scenario.step === 'build' ? 3000 : 0, kept);
      },
    );
  });

  describe('whole runs', () => {
    it('a successful run leaves the inventory as it was', async () => {
      const before = await takeInventory(docker, engine.storeInventory);
      const result = await runCli(
        [
          'extract',
          TEST_IMAGES.staticNonroot,
          '--base',
          TEST_IMAGES.shell,
          '--pull',
          'never',
          '-o',
          join(work, 'ok'),
        ],
        { env },
      );
      expect(result.exitCode, String(result.stderr)).toBe(0);
      await expectInventory(before);
    });

    it('a failed build leaves the inventory as it was', async () => {
      const before = await takeInventory(docker, engine.storeInventory);
      const dir = join(work, 'failed-build');
      await mkdir(dir);
      const result = await runCli(
        ['extract', TEST_IMAGES.staticNonroot, '--base', BAD_BASE, '--pull', 'never', '-o', join(dir, 'out')],
        { env },
      );
      expect(result.exitCode, String(result.stderr)).toBe(1);
      expect(String(result.stderr)).toMatch(/docker build failed/);
      expect(await readdir(dir)).toEqual([]);
      await expectInventory(before);
    });

    it('--keep-image keeps exactly the final image: removing it gives the inventory back', async () => {
      const before = await takeInventory(docker, engine.storeInventory);
      const result = await runCli(
        [
          'extract',
          TEST_IMAGES.staticNonroot,
          '--base',
          TEST_IMAGES.shell,
          '--pull',
          'never',
          '--keep-image',
          '-o',
          join(work, 'kept'),
        ],
        { env },
      );
      expect(result.exitCode, String(result.stderr)).toBe(0);
      const filters = JSON.stringify({ reference: ['distroless-contents-cache'] });
      const kept = await docker.listImages({ filters });
      expect(kept).toHaveLength(1);
      const keptId = kept[0]?.Id as string;
      // Its untagged parents (the build's earlier steps) and its snapshots (containerd store) are part of it:
      // the engine removes them with it. Nothing else is new.
      const addedLines = added(before, await takeInventory(docker, engine.storeInventory));
      const newImages = addedLines.filter((line) => line.startsWith('images: '));
      expect(addedLines.filter((line) => !line.startsWith('snapshots: '))).toEqual(newImages);
      const parents: string[] = [];
      for (let id = keptId; id; id = (await docker.getImage(id).inspect()).Parent) parents.push(id);
      expect(newImages.length).toBeLessThanOrEqual(parents.length);
      await docker.getImage(keptId).remove();
      await expectInventory(before);
    });
  });

  describe('SIGKILL mid-build', () => {
    /** Kills the run during the COPY step, then waits until the engine has finished that step on its own. */
    async function killedMidBuild(dir: string): Promise<void> {
      const label = testLabel();
      const { result, sent } = await interrupt(
        [
          'extract',
          'distroless-contents-test/big:latest',
          '--base',
          TEST_IMAGES.shell,
          '--pull',
          'never',
          '-o',
          join(dir, 'out'),
          '--label',
          label.arg,
        ],
        'building',
        'SIGKILL',
        copyStepUnderway(label.value),
      );
      expect(sent && result.signal, String(result.stderr)).toBe('SIGKILL');
      // The engine finishes the COPY step on its own, silently: no container, only a layer it mounts under its
      // data root to copy into, released once the step's image is committed. Wait until no such mount is left.
      for (let waited = 0, clear = 0; clear < 3; waited += 500) {
        if (waited > 300_000) throw new Error('the killed build never finished its step');
        await sleep(500);
        clear = (await mountsBelow(join(engine.dir, 'data'))) === 0 ? clear + 1 : 0;
      }
      expect(await labelledImages(label.value)).toBeGreaterThanOrEqual(2);
    }

    it('leaves images that cleanup --dry-run explains and npm run cleanup removes', async () => {
      const before = await takeInventory(docker, engine.storeInventory);
      const dir = join(work, 'killed-cleanup');
      await mkdir(dir);
      await killedMidBuild(dir);
      const left = await takeInventory(docker, engine.storeInventory);
      expect(added(before, left).filter((line) => line.startsWith('images: ')).length).toBeGreaterThan(0);

      const dry = await runCli(['cleanup', dir, '--dry-run'], { env });
      expect(dry.exitCode, String(dry.stderr)).toBe(0);
      expect(String(dry.stdout)).toMatch(
        /would remove image [0-9a-f]{12}: run [^/]+\/\d+\/[-0-9a-f]+: process \d+ on this host is gone/,
      );
      expect(String(dry.stdout)).toMatch(
        /would remove staging folder .*: staging folder of process \d+ on this host, which is gone/,
      );
      expect(await takeInventory(docker, engine.storeInventory)).toEqual(left);
      expect((await readdir(dir)).length).toBe(1);

      const cleanup = await runCli(['cleanup', dir], { env });
      expect(cleanup.exitCode, String(cleanup.stderr)).toBe(0);
      expect(await readdir(dir)).toEqual([]);
      await expectInventory(before);
    });

    it('leaves images that the next run into the same folder removes', async () => {
      const before = await takeInventory(docker, engine.storeInventory);
      const dir = join(work, 'killed-next');
      await mkdir(dir);
      await killedMidBuild(dir);
      const next = await runCli(
        [
          'extract',
          TEST_IMAGES.staticNonroot,
          '--base',
          TEST_IMAGES.shell,
          '--pull',
          'never',
          '-o',
          join(dir, 'out'),
        ],
        { env },
      );
      expect(next.exitCode, String(next.stderr)).toBe(0);
      expect(String(next.stderr)).toMatch(
        /removed what an interrupted run left: \d+ containers, [1-9]\d* images/,
      );
      expect(await readdir(dir)).toEqual(['out']);
      await expectInventory(before);
    });
  });
}

const EXPIRE = /containerd\.io\/gc\.expire=(\S+)/;

/** What a request the run cut may leave in the engine's containerd store, and the engine's reason. */
type KeptLease = (line: string) => boolean;

/**
 * Docker 26's containerd store keeps, by design, the lease of a pull its client cancelled until the lease's
 * `containerd.io/gc.expire` time, a day later, so that a retried pull resumes; the Docker API cannot remove it.
 */
const leaseOfCancelledPull: KeptLease = (line) => {
  const [, created] = line.split(' ');
  const expires = EXPIRE.exec(line)?.[1];
  const lifetime = created && expires ? Date.parse(expires) - Date.parse(created) : Number.NaN;
  return lifetime > 0 && lifetime <= 24 * 3600_000 + 60_000;
};

/**
 * Docker 26.1's `docker save` on the containerd store leaks its lease, with no expiry and no labels, when the
 * client cuts the stream (moby#48909, fixed in 27.x by moby#48910): nothing but a daemon-side fix removes it.
 */
const leaseOfCancelledSave: KeptLease = (line) => /^\S+ \S+ -\s*$/.test(line);

/** `after` without the one lease new since `before` that `kept` explains (one run cuts one request). */
function withoutKeptLeases(before: Inventory, after: Inventory, kept: KeptLease): Inventory {
  if (!after.leases) return after;
  const explained = after.leases.filter((line) => !before.leases?.includes(line) && kept(line));
  expect(explained.length, explained.join('\n')).toBeLessThanOrEqual(1);
  return { ...after, leases: after.leases.filter((line) => !explained.includes(line)) };
}
