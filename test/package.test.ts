import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../docker/test-images.mjs';
import { ROOT } from './support/cli.js';

// The package as users get it: built, packed, installed into a fresh project, run through npx.
let project: string;
beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'dc-package-'));
  const { stdout } = await execa('npm', ['pack', '--json', '--pack-destination', project], { cwd: ROOT });
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
  await writeFile(
    join(project, 'package.json'),
    '{ "name": "user-project", "private": true, "type": "module" }',
  );
  // @types/node: what any TypeScript project on Node has; the package must bring every other type it names.
  const nodeTypes = join(ROOT, 'node_modules/@types/node');
  await execa(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', join(project, filename), nodeTypes],
    { cwd: project },
  );
}, 600_000);
afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});

describe('the published package', () => {
  it('runs `npx distroless-contents extract IMAGE` from its bin entry', async () => {
    const output = join(project, 'dump');
    const result = await execa(
      'npx',
      [
        '--no-install',
        'distroless-contents',
        'extract',
        TEST_IMAGES.staticNonroot,
        '--base',
        TEST_IMAGES.shell,
        '--pull',
        'never',
        '-o',
        output,
        '-q',
      ],
      { cwd: project, reject: false },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(output);
  });

  it('names itself as installed in help and errors, and points at no src/ file', async () => {
    const npx = (...args: string[]) =>
      execa('npx', ['--no-install', 'distroless-contents', ...args], { cwd: project, reject: false });
    const overview = await npx('--help');
    expect(overview.exitCode).toBe(0);
    expect(overview.stdout.split('\n')[0]).toBe('Usage: distroless-contents COMMAND [options]');
    expect(overview.stdout.split('\n').at(-1)).toBe(
      "Run distroless-contents COMMAND --help for a command's options; --version prints the version.",
    );
    for (const command of ['extract', 'report', 'diff', 'shell', 'cleanup']) {
      const help = await npx(command, '--help');
      expect(help.exitCode).toBe(0);
      expect(help.stdout.split('\n')[0]).toMatch(new RegExp(`^Usage: distroless-contents ${command} `));
      expect(help.stdout).not.toMatch(/npm run|src\//);
    }
    const typo = await npx('extract', 'x', '--outptu', 'y');
    expect([typo.exitCode, typo.stderr]).toEqual([
      2,
      'error: Unknown option --outptu; did you mean --output? (see distroless-contents extract --help)',
    ]);
    const noEngine = await execa(
      'npx',
      ['--no-install', 'distroless-contents', 'extract', 'x', '-o', join(project, 'never')],
      {
        cwd: project,
        reject: false,
        env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
      },
    );
    expect(noEngine.exitCode).toBe(1);
    expect(noEngine.stderr).toMatch(
      /^error: No Docker engine answers at unix:\/\/\/nonexistent\/docker\.sock .*; start one \(for example: sudo dockerd\) there, or fix DOCKER_HOST\.$/,
    );
  });

  it('exports the library with its types', async () => {
    const script = `import { extractImage, parseReference, DistrolessContentsError } from 'distroless-contents';
      console.log(typeof extractImage, parseReference('gcr.io/distroless/static:nonroot').registry, typeof DistrolessContentsError);`;
    const { stdout } = await execa('node', ['--input-type=module', '-e', script], { cwd: project });
    expect(stdout).toBe('function gcr.io function');
    const typesCheck = `import type { ExtractOptions, Manifest } from 'distroless-contents';
      const options: ExtractOptions = { output: 'x', pull: 'never' }; const m: Manifest | undefined = undefined; void options; void m;`;
    await writeFile(join(project, 'check.ts'), typesCheck);
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const checked = await execa(
      'node',
      [
        tsc,
        '--noEmit',
        '--strict',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        // As strict consumers build: the package's own declarations are checked too.
        '--skipLibCheck',
        'false',
        'check.ts',
      ],
      { cwd: project, reject: false },
    );
    expect(checked.exitCode, checked.stdout).toBe(0);
  });

  it('ships LICENSE and SECURITY.md, which README links to', async () => {
    const installed = join(project, 'node_modules/distroless-contents');
    const { stdout } = await execa('ls', [installed]);
    expect(stdout.split('\n')).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'SECURITY.md']));
  });

  it("compiles README's library examples strictly and runs them", async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const library = readme.slice(readme.indexOf('## Library'), readme.indexOf('### Manifest'));
    const blocks = [...library.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] as string);
    expect(blocks.length).toBeGreaterThan(0);
    // No registry here: the README's image names map to the local look-alikes (same files, same users).
    const code = blocks
      .join('\n')
      .replaceAll('gcr.io/distroless/static-debian12:nonroot', TEST_IMAGES.staticNonroot)
      .replaceAll('alpine:3.20.3', TEST_IMAGES.shell);
    const checks = `
      if (result.counts.entries < 1000) throw new Error('too few entries: ' + result.counts.entries);
      if (!report.accounts?.users.some((user) => user.name === 'nonroot')) throw new Error('no nonroot user');
      if (!diff.identical) throw new Error('diff: ' + JSON.stringify(diff.counts));
      void extractImages; void DistrolessContentsError;
      console.log('ran', result.counts.entries, diff.identical);`;
    await writeFile(join(project, 'readme-example.ts'), `${code}\n${checks}\n`);
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const checked = await execa(
      'node',
      [
        tsc,
        '--noEmit',
        '--strict',
        '--target',
        'es2022',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        'readme-example.ts',
      ],
      { cwd: project, reject: false },
    );
    expect(checked.exitCode, checked.stdout).toBe(0);
    const ran = await execa('node', [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'readme-example.ts'], {
      cwd: project,
      reject: false,
    });
    expect(ran.exitCode, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/^ran \d+ true$/m);
  });
});
