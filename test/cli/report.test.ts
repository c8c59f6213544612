import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import type { Report } from '../../src/inspect/report.js';
import { dumpImage } from '../inspect/dumps.js';
import { runCli } from '../support/cli.js';

const isRoot = process.getuid?.() === 0;
const image = ['--base', TEST_IMAGES.shell, '--pull', 'never'];
let work: string;
let scratch: string;
let folder: string;
let manifestPath: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dc-report-cli-'));
  scratch = mkdtempSync(join(tmpdir(), 'dc-report-tmp-'));
  ({ folder, manifestPath } = await dumpImage(TEST_IMAGES.staticNonroot, work, 'static'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

/** The CLI with its own TMPDIR, so what an image target leaves behind can be seen. */
const report = (...args: string[]) => runCli(['report', ...args], { env: { TMPDIR: scratch } });

function find(format: string): string[] {
  return execFileSync('find', ['.', '-mindepth', '1', '-printf', format], { cwd: folder, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .sort();
}

describe('npm run report -- IMAGE', () => {
  it('prints the sections in order, /usr/share/zoneinfo standing out, and removes its temporary dump', async () => {
    const result = await report(TEST_IMAGES.staticNonroot, ...image, '--quiet');
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const text = String(result.stdout);
    const titles = [
      'Summary',
      'Heaviest folders (depth 3)',
      'Users and groups',
      'OS',
      'Packages (4)',
      'Security',
      'Largest files',
    ];
    const positions = titles.map((title) => text.indexOf(`\n${title}`));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    const rows = text.split('\n').filter((line) => / \d+\.\d% {2}/.test(line));
    expect(rows[2]).toMatch(/ \/usr\/share\/zoneinfo$/);
    expect(text).toMatch(/^distroless-contents-test\/static:nonroot {2}sha256:[0-9a-f]{64} {2}linux\/\w+$/m);
    expect(text).toContain('user 65532, workdir /home/nonroot, entrypoint none, cmd none');
    expect(text).toMatch(/nonroot +65532 +65532 +nonroot +\/home\/nonroot +\/sbin\/nologin/);
    expect(text).toContain('Distroless (ID=debian, VERSION_ID=12)');
    // tsx keeps its cache in TMPDIR too; only the inspect dump must be gone.
    expect(readdirSync(scratch).filter((name) => name.startsWith('distroless-contents-inspect-'))).toEqual(
      [],
    );
    expect(readdirSync(scratch).length).toBeGreaterThan(0);
  });

  it.runIf(isRoot)(
    'gives counts, sizes and owners that agree with find and du on a root-made dump',
    async () => {
      const result = await report(
        TEST_IMAGES.staticNonroot,
        ...image,
        '--json',
        '--tree',
        '--depth',
        '100',
        '-q',
      );
      expect(result.exitCode, String(result.stderr)).toBe(0);
      const json = JSON.parse(String(result.stdout)) as Report;
      const count = (type: string) => find(`%y\\n`).filter((t) => t === type).length;
      expect(json.summary).toMatchObject({
        directories: count('d'),
        files: count('f'),
        symlinks: count('l'),
        hardlinks: 0,
        special: 0,
      });
      const bytes = find('%y %s\\n')
        .filter((line) => line.startsWith('f '))
        .reduce((sum, line) => sum + Number(line.slice(2)), 0);
      expect(json.summary.apparentBytes).toBe(bytes);
      const owners = json.tree?.lines
        .map((line) => `${line.path} ${line.uid}:${line.gid} ${line.mode.toString(8)}`)
        .sort();
      expect(owners).toEqual(find('%P %U:%G %m\\n'));
      expect(json.du.rows[2]).toMatchObject({ path: 'usr/share/zoneinfo' });
      const duZoneinfo = execFileSync('du', ['-s', '-B1', 'usr/share/zoneinfo'], {
        cwd: folder,
        encoding: 'utf8',
      });
      expect(json.du.rows[2]?.diskBytes).toBeCloseTo(Number(duZoneinfo.split('\t')[0]), -5);
    },
  );

  it('reports the same image the same way from the image, its dump folder and its manifest', async () => {
    const runs = await Promise.all(
      [[TEST_IMAGES.staticNonroot, ...image], [folder], [manifestPath]].map((target) =>
        report(...target, '--json', '-q'),
      ),
    );
    const [fromImage, fromFolder, fromManifest] = runs.map((run) => {
      expect(run.exitCode, String(run.stderr)).toBe(0);
      const { target: _target, notes: _notes, ...rest } = JSON.parse(String(run.stdout)) as Report;
      return rest;
    });
    expect(fromFolder).toEqual(fromImage);
    expect(fromManifest).toEqual(fromImage);
  });

  it('shows a tree with owners, and writes a self-contained page', async () => {
    const tree = await report(folder, '--tree', '--owners', '--depth', '2');
    expect(tree.exitCode).toBe(0);
    expect(String(tree.stdout)).toContain('│   └── [drwx------ 65532 65532]  nonroot');
    expect(String(tree.stdout)).toContain('├── [drwxrwxrwt 0     0    ]  tmp');
    const page = join(work, 'static.html');
    const html = await report(folder, '--html', page);
    expect(html.exitCode, String(html.stderr)).toBe(0);
    expect(String(html.stdout)).toBe('');
    const content = readFileSync(page, 'utf8');
    expect(content).toMatch(/^<!doctype html>/);
    expect(content).not.toMatch(/(src|href)=["']?(https?:)?\/\//i);
    expect(content).toContain("default-src 'none'");
  });

  it.each([
    ['no target', [], /Expected exactly one TARGET, got 0/],
    ['two targets', ['a', 'b'], /Expected exactly one TARGET, got 2/],
    ['a bad --depth', ['x', '--depth', '0'], /Invalid --depth "0"/],
    ['a bad --top', ['x', '--top', 'many'], /Invalid --top "many"/],
    ['an unknown flag', ['x', '--frobnicate'], /Unknown option --frobnicate \(see npm run \w+ -- --help\)$/],
    ['a missing folder', ['./no/such/dump'], /No such file or folder \.\/no\/such\/dump/],
    ['a bad --pull', ['alpine', '--pull', 'sometimes'], /Invalid --pull "sometimes"/],
  ])('exits 2 with one line on %s', async (_name, args, message) => {
    const result = await report(...args);
    expect(result.exitCode).toBe(2);
    const stderr = String(result.stderr).trim();
    expect(stderr.split('\n')).toHaveLength(1);
    expect(stderr).toMatch(message);
  });
});
