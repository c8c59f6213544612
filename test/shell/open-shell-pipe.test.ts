import { execa, type Options } from 'execa';
import { describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { CACHE_REPOSITORY } from '../../src/extract/cache.js';
import { runCli } from '../support/cli.js';
import { docker, leftovers, testLabel } from '../support/leftovers.js';

// What the article's tree of static-debian12:nonroot shows in /etc, and its /etc/passwd line for nonroot.
const ARTICLE_ETC = ['debian_version', 'group', 'nsswitch.conf', 'os-release', 'passwd', 'services', 'ssl'];
const NONROOT_LINE = 'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin';

/** `npm run shell -- IMAGE` with stdin a pipe (not a terminal), as a handle that can be written to and signalled. */
function startShell(args: readonly string[], options: Options = {}) {
  return runCli(['shell', ...args], { stdin: 'pipe', ...options });
}

describe('npm run shell with stdin piped', () => {
  it("runs the piped script in /distroless-contents, keeps stdout and stderr apart, exits with the shell's code and leaves nothing", async () => {
    const label = testLabel();
    const script = [
      'echo "pwd=$(pwd)"',
      'ls /distroless-contents/etc',
      'cat /distroless-contents/etc/passwd',
      'echo "to-stderr-$((40+2))" >&2',
      'exit 7',
      '',
    ].join('\n');
    const result = await startShell(
      [TEST_IMAGES.staticNonroot, '--base', TEST_IMAGES.shell, '--pull', 'never', '--label', label.arg],
      { input: script },
    );
    const stdout = String(result.stdout).split('\n');
    expect(result.exitCode, String(result.stderr)).toBe(7);
    expect(stdout[0]).toBe('pwd=/distroless-contents');
    expect(stdout).toEqual(expect.arrayContaining([...ARTICLE_ETC, NONROOT_LINE]));
    expect(String(result.stderr).split('\n')).toContain('to-stderr-42');
    expect(String(result.stdout)).not.toContain('to-stderr');
    expect(await leftovers(label.value)).toEqual([]);
  });

  it('returns as soon as the shell exits, even while stdin stays open', async () => {
    const label = testLabel();
    const child = startShell([
      TEST_IMAGES.staticNonroot,
      '--base',
      TEST_IMAGES.shell,
      '--pull',
      'never',
      '--label',
      label.arg,
    ]);
    child.stdin?.write('exit 4\n');
    const result = await child;
    expect(child.stdin?.writableEnded).toBe(false);
    expect(result.exitCode, String(result.stderr)).toBe(4);
    expect(await leftovers(label.value)).toEqual([]);
  });

  it('keeps the built image with --keep-image, tagged: the base with the image under /distroless-contents', async () => {
    const label = testLabel();
    try {
      const result = await startShell(
        [
          TEST_IMAGES.staticNonroot,
          '--base',
          TEST_IMAGES.shell,
          '--pull',
          'never',
          '--keep-image',
          '--label',
          label.arg,
        ],
        { input: 'exit 0\n' },
      );
      expect(result.exitCode, String(result.stderr)).toBe(0);
      const left = await leftovers(label.value);
      expect(left.filter((item) => item.startsWith('container'))).toEqual([]);
      // Top-level images only: the build's labelled intermediate layers are its parents.
      const images = await docker.listImages({ filters: JSON.stringify({ label: [label.arg] }) });
      expect(images).toHaveLength(1);
      const kept = await docker.getImage(images[0]?.Id ?? '').inspect();
      expect(kept.Config.WorkingDir).toBe('/distroless-contents');
      // Tagged as extract tags what it keeps, so clean-ups of interrupted runs spare it.
      expect(kept.RepoTags.some((tag) => tag.startsWith(`${CACHE_REPOSITORY}:`))).toBe(true);
      const listing = await execa('docker', [
        'run',
        '--rm',
        '--label',
        label.arg,
        '--network',
        'none',
        kept.Id,
        'cat',
        '/distroless-contents/etc/passwd',
      ]);
      expect(listing.stdout.split('\n')).toContain(NONROOT_LINE);
    } finally {
      const filters = JSON.stringify({ label: [label.arg] });
      for (const image of await docker.listImages({ filters }))
        await docker.getImage(image.Id).remove({ force: true });
    }
    expect(await leftovers(label.value)).toEqual([]);
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGHUP', 129],
    ['SIGINT', 130],
  ] as const)('stops on %s while the shell runs, exits %i and leaves nothing', async (signal, exitCode) => {
    const label = testLabel();
    const child = startShell([
      TEST_IMAGES.staticNonroot,
      '--base',
      TEST_IMAGES.shell,
      '--pull',
      'never',
      '--label',
      label.arg,
    ]);
    let sent = false;
    child.stdout?.on('data', (chunk: Buffer) => {
      if (!sent && chunk.toString().includes('ready-1')) {
        sent = true;
        child.kill(signal);
      }
    });
    // Printed by the shell in the container, so the signal lands while the session is open.
    child.stdin?.write('echo "ready-$((0+1))"\n');
    const result = await child;
    expect(sent, String(result.stderr)).toBe(true);
    expect(result.exitCode, String(result.stderr)).toBe(exitCode);
    expect(String(result.stderr)).toContain(`error: Interrupted by ${signal}`);
    expect(await leftovers(label.value)).toEqual([]);
  });

  it('fails clearly and cleans up when the base has no /bin/sh', async () => {
    const label = testLabel();
    const result = await startShell(
      [
        TEST_IMAGES.staticNonroot,
        '--base',
        TEST_IMAGES.staticLatest,
        '--pull',
        'never',
        '--label',
        label.arg,
      ],
      { input: 'exit 0\n' },
    );
    expect(result.exitCode).toBe(1);
    expect(String(result.stderr)).toMatch(/error: Base image .* has no \/bin\/sh.*pick a base with a shell/);
    expect(await leftovers(label.value)).toEqual([]);
  });

  it('refuses bad usage before touching the engine', async () => {
    const none = await runCli(['shell']);
    expect(none.exitCode).toBe(2);
    expect(String(none.stderr)).toContain('Expected exactly one image');
    const pull = await runCli(['shell', TEST_IMAGES.staticNonroot, '--pull', 'sometimes']);
    expect(pull.exitCode).toBe(2);
    expect(String(pull.stderr)).toContain('Invalid --pull "sometimes"');
  });
});
