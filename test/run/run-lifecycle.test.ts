import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { DockerError, InterruptedError } from '../../src/errors.js';
import { reportCleanup, runLifecycle } from '../../src/run/run-lifecycle.js';

// No engine: a client on a socket that does not exist, so the lifecycle's own rules are what is tested.
const nowhere = new Docker({ socketPath: '/nonexistent/docker.sock' });

describe('runLifecycle', () => {
  it('releases in any case, and a failing release never hides the first error', async () => {
    const lines: string[] = [];
    let worked = false;
    const run = runLifecycle(
      {
        docker: nowhere,
        labels: {},
        log: (line) => lines.push(line),
        keepImage: false,
        release: async () => {
          throw new Error('the staging folder would not go');
        },
      },
      async () => {
        worked = true;
      },
    );
    await expect(run).rejects.toThrow(DockerError);
    await expect(run).rejects.toMatchObject({ code: 'ENGINE_UNREACHABLE' });
    expect(worked).toBe(false);
    expect(lines).toEqual([
      'warning: cleanup after the failure was incomplete: the staging folder would not go; run distroless-contents cleanup.',
    ]);
  });

  it("turns an abort into the signal's InterruptedError, after releasing", async () => {
    const controller = new AbortController();
    controller.abort(new InterruptedError('SIGTERM'));
    let released = false;
    const run = runLifecycle(
      {
        docker: nowhere,
        labels: {},
        signal: controller.signal,
        log: () => {},
        keepImage: false,
        release: async () => {
          released = true;
        },
      },
      async () => 'never',
    );
    await expect(run).rejects.toThrow('Interrupted by SIGTERM');
    expect(released).toBe(true);
  });
});

describe('reportCleanup', () => {
  it('logs after a failure, and fails a run that had succeeded', () => {
    const lines: string[] = [];
    reportCleanup([new Error('gone wrong')], true, (line) => lines.push(line));
    expect(lines).toEqual([
      'warning: cleanup after the failure was incomplete: gone wrong; run distroless-contents cleanup.',
    ]);
    expect(() => reportCleanup([new Error('gone wrong')], false, () => {})).toThrow(
      /Cleanup failed: gone wrong; remove what is labelled dev.distroless-contents.run/,
    );
    expect(() => reportCleanup([], false, () => {})).not.toThrow();
  });
});
