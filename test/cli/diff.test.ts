import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import type { DiffReport } from '../../src/inspect/diff-report.js';
import { dumpImage } from '../inspect/dumps.js';
import { runCli } from '../support/cli.js';
import { Terminal } from '../support/terminal.js';

const image = ['--base', TEST_IMAGES.shell, '--pull', 'never', '-q'];
let work: string;
let stat: string;
let nossl: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dc-diff-cli-'));
  stat = (await dumpImage(TEST_IMAGES.staticNonroot, work, 'static')).folder;
  nossl = (await dumpImage(TEST_IMAGES.baseNosslNonroot, work, 'base-nossl')).folder;
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const diff = (...args: string[]) => runCli(['diff', ...args]);

function paths(folder: string): string[] {
  return execFileSync('find', ['.', '-mindepth', '1', '-printf', '%P\\n'], { cwd: folder, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}

describe('npm run diff -- A B', () => {
  it('shows base-nossl adding libc6 and its files to static, and exits 1', async () => {
    const result = await diff(TEST_IMAGES.staticNonroot, TEST_IMAGES.baseNosslNonroot, ...image, '--json');
    expect(result.exitCode, String(result.stderr)).toBe(1);
    const report = JSON.parse(String(result.stdout)) as DiffReport;
    const version = /^Version: (.+)$/m.exec(
      readFileSync(join(nossl, 'var/lib/dpkg/status.d/libc6'), 'utf8'),
    )?.[1];
    expect(report.packages).toEqual({
      added: [{ name: 'libc6', version, architecture: expect.any(String), source: 'dpkg-status.d' }],
      removed: [],
      changed: [],
    });
    // The oracle: what find lists in the base-nossl dump and not in the static one.
    const before = new Set(paths(stat));
    expect(report.added.map((e) => e.path).sort()).toEqual(
      paths(nossl)
        .filter((p) => !before.has(p))
        .sort(),
    );
    const libcFiles = readFileSync(join(nossl, 'var/lib/dpkg/status.d/libc6.md5sums'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.replace(/^[0-9a-f]+ +/, ''));
    const added = new Set(report.added.map((e) => e.path));
    expect(libcFiles.filter((file) => !added.has(file))).toEqual([]);
    expect(report.removed).toEqual([]);
    expect(report.changed).toEqual([]);
    expect(report.total.delta).toBeGreaterThan(1_000_000);
    expect(report.folders[0]?.delta).toBeGreaterThan(0);

    const text = await diff(TEST_IMAGES.staticNonroot, TEST_IMAGES.baseNosslNonroot, ...image);
    expect(text.exitCode).toBe(1);
    expect(String(text.stdout)).toMatch(
      new RegExp(`^ {2}\\+ libc6 ${version?.replace(/[.+]/g, '\\$&')} \\(\\w+\\)$`, 'm'),
    );
    expect(String(text.stdout)).toMatch(
      /^ {2}\+ \/usr\/lib\/x86_64-linux-gnu\/libc\.so\.6 {2}file \S+$|^ {2}\+ \/lib\/\S+\/libc\.so\.6 {2}file \S+$/m,
    );
  });

  it('exits 0 on the same image, and on a manifest against its own dump folder', async () => {
    const same = await diff(TEST_IMAGES.staticNonroot, TEST_IMAGES.staticNonroot, ...image);
    expect(same.exitCode, String(same.stderr)).toBe(0);
    expect(String(same.stdout)).toMatch(/\nIdentical\.$/);
    const mixed = await diff(`${stat}.json`, stat);
    expect(mixed.exitCode, String(mixed.stdout)).toBe(0);
  });

  it('leaves mtime-only churn out unless --mtime, compares contents with --hash, and honours --ignore', async () => {
    const a = join(work, 'copy-a');
    const b = join(work, 'copy-b');
    cpSync(stat, a, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    cpSync(stat, b, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    utimesSync(join(b, 'etc/issue'), new Date(0), new Date(0));
    expect((await diff(a, b)).exitCode).toBe(0);
    const withMtime = await diff(a, b, '--mtime');
    expect(withMtime.exitCode).toBe(1);
    expect(String(withMtime.stdout)).toMatch(
      /^ {2}~ \/etc\/issue {2}mtime \S+ -> 1970-01-01T00:00:00\.000Z$/m,
    );

    // Same size, other bytes: only a hash can tell.
    const issue = readFileSync(join(a, 'etc/issue'), 'utf8');
    writeFileSync(
      join(b, 'etc/issue'),
      issue.toUpperCase() === issue ? issue.toLowerCase() : issue.toUpperCase(),
    );
    const unhashed = await diff(a, b);
    expect(unhashed.exitCode).toBe(0);
    expect(String(unhashed.stdout)).toMatch(/files of equal size were not compared by content .*pass --hash/);
    const hashed = await diff(a, b, '--hash');
    expect(hashed.exitCode).toBe(1);
    expect(String(hashed.stdout)).toMatch(/^ {2}~ \/etc\/issue {2}content [0-9a-f]{12} -> [0-9a-f]{12}$/m);
    expect((await diff(a, b, '--hash', '--ignore', 'etc/issue')).exitCode).toBe(0);
    expect((await diff(a, b, '--hash', '--ignore', 'issue')).exitCode).toBe(0);
  });

  it('prints only the targets and the summary with --stat', async () => {
    const result = await diff(`${stat}.json`, `${nossl}.json`, '--stat');
    expect(result.exitCode).toBe(1);
    const full = JSON.parse(
      String((await diff(`${stat}.json`, `${nossl}.json`, '--json')).stdout),
    ) as DiffReport;
    expect(String(result.stdout).split('\n')).toEqual([
      `A: ${stat}.json (manifest)`,
      `B: ${nossl}.json (manifest)`,
      `${full.counts.added} added, 0 removed, 0 changed; packages: 1 added, 0 removed, 0 changed`,
      expect.stringMatching(/^bytes: \S+ -> \S+ \(\+\S+\)$/),
    ]);
  });

  it('puts the summary first on a terminal, where the end of a long diff scrolls away', async () => {
    const terminal = new Terminal();
    try {
      await terminal.start(`npx tsx src/cli/main.ts diff ${stat}.json ${nossl}.json`);
      expect(await terminal.exitStatus()).toBe(1);
      const lines = await terminal.lines();
      const start = lines.findIndex((line) => line.startsWith('A: '));
      expect(lines[start + 2], lines.join('\n')).toMatch(
        /^\d+ added, 0 removed, 0 changed; packages: 1 added/,
      );
      expect(lines.filter((line) => /^\d+ added, \d+ removed, /.test(line))).toHaveLength(1);
    } finally {
      await terminal.kill();
    }
  });

  it.each([
    ['a missing target', ['./no/such', 'b'], /No such file or folder \.\/no\/such/],
    ['one target', ['a'], /Expected two targets A and B, got 1/],
    [
      'an unknown flag',
      ['a', 'b', '--frobnicate'],
      /Unknown option --frobnicate \(see npm run \w+ -- --help\)$/,
    ],
    ['an image that is not there', ['distroless-contents-test/no-such:image', 'b', ...image], /.+/],
  ])('exits 2 with one line on %s', async (_name, args, message) => {
    const result = await diff(...args);
    expect(result.exitCode, String(result.stderr)).toBe(2);
    const lines = String(result.stderr).trim().split('\n');
    expect(lines.filter((line) => line.startsWith('error:'))).toHaveLength(1);
    expect(lines.at(-1)).toMatch(message);
  });
});
