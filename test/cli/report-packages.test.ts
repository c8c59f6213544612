import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/inspect/report.js';
import { runCli } from '../support/cli.js';
import { debianRoot } from '../support/debian-root.js';

// The real CLI over a debootstrap root used as a dump folder: the lines a person sees.
let root: string;
beforeAll(async () => {
  root = await debianRoot();
}, 900_000);

const report = (...args: string[]) => runCli(['report', root, ...args]);

describe('npm run report -- DUMP --owner/--files/--unowned', () => {
  it('--owner prints what dpkg -S prints, and names the listed spelling behind a merged-/usr path', async () => {
    const result = await report('--owner', '/usr/share/zoneinfo/UTC', '--owner', '/usr/bin/ls');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('tzdata: /usr/share/zoneinfo/UTC\ncoreutils: /usr/bin/ls (listed as /bin/ls)');
    expect(result.exitCode).toBe(0);
  });

  it('--owner of a path no package claims says so on stderr and exits 1, as dpkg does', async () => {
    const result = await report('--owner', '/etc/passwd', '--owner', '/bin/ls');
    expect(result.stdout).toBe('coreutils: /bin/ls');
    expect(result.stderr).toBe('No package owns /etc/passwd.');
    expect(result.exitCode).toBe(1);
  });

  it('--files prints one path a line; an unknown package exits 1', async () => {
    const result = await report('--files', 'tzdata');
    expect(result.exitCode).toBe(0);
    const lines = String(result.stdout).split('\n');
    expect(lines[0]).toBe('/usr');
    expect(lines).toContain('/usr/share/zoneinfo/Europe/Paris');
    const missing = await report('--files', 'nosuch');
    expect(missing.stderr).toBe('No package nosuch has a file list in the image.');
    expect(missing.exitCode).toBe(1);
  });

  it('--unowned lists paths no package claims; --json holds the same under packageFiles', async () => {
    const text = await report('--unowned');
    expect(text.exitCode).toBe(0);
    const lines = String(text.stdout).split('\n');
    expect(lines).toContain('/etc/passwd');
    expect(lines).not.toContain('/usr/bin/ls');
    const json = await report('--unowned', '--json');
    const parsed = JSON.parse(String(json.stdout)) as Report;
    expect(parsed.packageFiles?.unowned?.map((path) => `/${path}`)).toEqual(lines);
    expect(parsed.packageFiles?.unownedCount).toBe(lines.length);
  });

  it('the full report shows each package with its files and size, and the count of unowned files', async () => {
    const result = await report();
    expect(result.exitCode).toBe(0);
    const text = String(result.stdout);
    expect(text).toMatch(/^ {2}PACKAGE +VERSION +ARCH +FILES +SIZE$/m);
    expect(text).toMatch(/^ {2}tzdata +\S+ +all +\d+ +\d+(\.\d)?M$/m);
    expect(text).toMatch(
      /^ {2}\d+ files belong to no package \(--unowned lists them\); file lists from \/var\/lib\/dpkg\/info$/m,
    );
  });

  it('the HTML page gives the package table Files and Size columns', async () => {
    const page = join(mkdtempSync(join(tmpdir(), 'dc-report-packages-')), 'page.html');
    const result = await report('--html', page, '-q');
    expect(result.exitCode).toBe(0);
    const html = readFileSync(page, 'utf8');
    expect(html).toContain('<th class="num">Files</th><th class="num">Size</th>');
    expect(html).toMatch(
      /<td>tzdata<\/td><td>[^<]+<\/td><td>all<\/td><td class="num">\d+<\/td><td class="num">[\d.]+M<\/td>/,
    );
    rmSync(dirname(page), { recursive: true, force: true });
  });

  it('refuses --owner for a manifest with no dump folder beside it: the lists are file contents (exit 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dc-report-packages-'));
    const manifest = join(dir, 'lone.json');
    const image = { reference: 'x:1', id: `sha256:${'0'.repeat(64)}`, platform: 'linux/amd64' };
    const entry = { path: 'etc', type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 };
    writeFileSync(
      manifest,
      JSON.stringify({
        schema: 1,
        tool: { name: 'distroless-contents', version: '0' },
        method: 'fast',
        image: { ...image, user: '', workdir: '', env: [], entrypoint: null, cmd: null },
        entries: [entry],
      }),
    );
    const result = await runCli(['report', manifest, '--owner', '/etc/passwd']);
    rmSync(dir, { recursive: true, force: true });
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(
      `Cannot answer --owner, --files or --unowned for ${manifest}: package file lists are file contents, and there is no dump folder beside the manifest.`,
    );
  });

  it('refuses an empty --owner path as a usage error (exit 2)', async () => {
    const result = await report('--owner', '/');
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/Invalid owner path "\/": give a path in the image/);
  });
});
