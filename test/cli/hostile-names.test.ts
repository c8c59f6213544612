import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressReporter } from '../../src/cli/progress-reporter.js';
import type { Report } from '../../src/inspect/report.js';
import { b, CLEAR, OSC_TITLE, writeHostileDump, writeTree } from '../inspect/hostile-names.js';
import { ROOT, runCli } from '../support/cli.js';
import { rawHidden } from '../support/raw-hidden.js';
import { Terminal } from '../support/terminal.js';

// Engine-free: the dumps are written by the test; the CLI is the real one, run as npm runs it.
let work: string;
let dump: string;
let left: string;
let right: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dc-hostile-cli-'));
  dump = join(work, 'dump');
  writeHostileDump(dump);
  left = join(work, 'left');
  right = join(work, 'right');
  writeTree(left, [{ path: b('n', 0xff), content: b('same') }]);
  writeTree(right, [{ path: b('n', 0xfe), content: b('same') }]);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const lines = (text: unknown) => String(text).split('\n');
/** What reaches the terminal, line breaks aside: no ESC, CSI, CR, bidi control or other hidden character. */
const hidden = (text: unknown) => rawHidden(String(text).replace(/\n/g, ''));

describe('npm run report and diff on a dump of hostile names', () => {
  it('report --tree --owners: every line quoted, the uid-0 user behind etc/passwd -> passwd\\xff shown', async () => {
    const result = await execa('npm', ['run', '-s', 'report', '--', dump, '--tree', '--owners', '-d', '4'], {
      cwd: ROOT,
      reject: false,
      env: { NO_COLOR: '1' },
    });
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(hidden(result.stdout)).toEqual([]);
    expect(hidden(result.stderr)).toEqual([]);
    const shown = lines(result.stdout);
    expect(shown).toContain("├── [-rw-r--r-- 0 0]  $'title\\e]2;PWNED\\a'");
    expect(shown).toContain("├── [-rw-r--r-- 0 0]  $'clear\\e[2J\\e[H'");
    expect(shown).toContain("├── [-rw-r--r-- 0 0]  $'cr\\rfake'");
    expect(shown).toContain("├── [-rw-r--r-- 0 0]  $'rlo\\u202etxt.exe'");
    expect(shown).toContain("  $'evil\\e]2;PWNED\\a'    0    0  root   $'/h\\xff'  /bin/sh");
    expect(shown).toContain("    -rwsr-xr-x 4755 0:0  $'/f\\xfe'");
    expect(shown).toContain("  $'hidden\\e[8m'  $'1.0\\u202e'  amd64      ?     ?");
  });

  it('report --json: C1 and bidi characters escaped too, and the names parse back exactly', async () => {
    const result = await runCli(['report', dump, '--json']);
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(hidden(result.stdout)).toEqual([]);
    expect(String(result.stdout)).toContain('"path": "csi\\u009b2J"');
    const report = JSON.parse(String(result.stdout)) as Report;
    expect(report.accounts?.users.map((u) => u.name)).toContain(`evil${OSC_TITLE}`);
    expect(report.largestFiles.map((f) => f.path)).toContain('rlo\u202etxt.exe');
    expect(report.security.setuid.map((f) => f.path)).toEqual(['f\udcfe']);
  });

  it('diff of two dumps one byte of one name apart: exit 1, both names shown, never "Identical."', async () => {
    const result = await runCli(['diff', left, right]);
    expect(result.exitCode, String(result.stderr)).toBe(1);
    expect(hidden(result.stdout)).toEqual([]);
    const shown = lines(result.stdout);
    expect(shown).toContain("  - $'/n\\xff'  file 4");
    expect(shown).toContain("  + $'/n\\xfe'  file 4");
    expect(shown).not.toContain('Identical.');
    expect(shown).toContain('1 added, 1 removed, 0 changed; packages: 0 added, 0 removed, 0 changed');
  });

  it('error lines quote the name they are about', async () => {
    const result = await runCli(['report', `./no-such${OSC_TITLE}${CLEAR}`]);
    expect(result.exitCode).toBe(2);
    expect(String(result.stderr)).toBe(
      "error: No such file or folder $'./no-such\\e]2;PWNED\\a\\e[2J\\e[H'; give an image, a dump folder or a manifest file.",
    );
  });

  it('error lines that carry foreign text (the JSON parser quoting a manifest) show it visibly', async () => {
    const manifest = join(work, 'bad.json');
    writeFileSync(manifest, `${OSC_TITLE}${CLEAR}\u202e\r{`);
    const result = await runCli(['report', manifest]);
    expect(result.exitCode).toBe(2);
    expect(hidden(result.stderr)).toEqual([]);
    expect(String(result.stderr)).toMatch(/^error: Cannot read manifest .*bad\.json: .*\\e\]2;PWNED/);
  });
});

describe('npm run cleanup', () => {
  it('names a removed staging folder visibly', async () => {
    // A stub engine that has no leftovers: the shared engine's belong to other runs, which this must not touch.
    const socket = join(work, 'engine.sock');
    const engine = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end('[]');
    });
    await new Promise<void>((resolve) => engine.listen(socket, resolve));
    try {
      const dir = join(work, `out${OSC_TITLE}`);
      const staging = join(dir, `.distroless-contents-staging-x${CLEAR}-999999-0123abcd`);
      mkdirSync(staging, { recursive: true });
      const result = await runCli(['cleanup', dir], { env: { DOCKER_HOST: `unix://${socket}` } });
      expect(result.exitCode, String(result.stderr)).toBe(0);
      expect(hidden(result.stdout)).toEqual([]);
      expect(lines(result.stdout)).toContain(
        `removed staging folder $'${work}/out\\e]2;PWNED\\a/.distroless-contents-staging-x\\e[2J\\e[H-999999-0123abcd'`,
      );
      expect(existsSync(staging)).toBe(false);
    } finally {
      await new Promise((resolve) => engine.close(resolve));
    }
  });
});

describe('progress lines', () => {
  it("show the step's detail and the build's output lines visibly", () => {
    for (const isTTY of [false, true]) {
      let written = '';
      const stream = {
        isTTY,
        columns: 200,
        write: (chunk: string) => {
          written += chunk;
          return true;
        },
      } as unknown as NodeJS.WriteStream;
      const report = progressReporter({ quiet: false, stream, env: { NO_COLOR: '1' } });
      report({ kind: 'step', step: 'pull', state: 'start', detail: `evil${OSC_TITLE}` });
      report({ kind: 'output', step: 'build', line: `Step 1/2 : COPY ${CLEAR}\u202e` });
      report({ kind: 'step', step: 'pull', state: 'done', durationMs: 1000 });
      // On a terminal the reporter's own \r\e[K redraws the live line; nothing else may be raw.
      const foreign = written.replaceAll('\r\u001b[K', '');
      expect(rawHidden(foreign.replace(/\n/g, ''))).toEqual([]);
      expect(written).toContain("pulling $'evil\\e]2;PWNED\\a'");
      if (isTTY) expect(written).toContain("build: Step 1/2 : COPY $'\\e[2J\\e[H\\u202e'");
    }
  });
});

describe('in a real terminal (tmux)', () => {
  it('an OSC title or a clear-screen in a name does not act', async () => {
    const terminal = new Terminal();
    try {
      // A raw OSC title first proves this terminal acts on one; the report after it must not.
      const script = [
        "printf '\\033]2;CONTROL\\007'",
        'echo BEFORE-REPORT',
        `npm run -s report -- '${dump}' --tree`,
        'echo "AFTER-REPORT $?"',
      ].join('; ');
      await terminal.start(`sh -c "${script.replace(/"/g, '\\"')}"`);
      const screen = await terminal.waitFor('the report to end', (shown) =>
        shown.some((line) => line.startsWith('AFTER-REPORT')),
      );
      expect(await terminal.exitStatus()).toBe(0);
      expect(screen).toContain('AFTER-REPORT 0');
      expect(await terminal.format('#{pane_title}')).toBe('CONTROL');
      // Nothing cleared the screen or its history: the line before the report is still there.
      expect(screen).toContain('BEFORE-REPORT');
      expect(screen).toContain("├── $'title\\e]2;PWNED\\a'");
      expect(screen).toContain("├── $'clear\\e[2J\\e[H'");
      expect(screen).toContain("├── $'cr\\rfake'");
    } finally {
      await terminal.kill();
    }
  });
});
