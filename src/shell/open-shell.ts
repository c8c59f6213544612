import type { Socket } from 'node:net';
import { startError } from '../docker/container.js';
import { buildArticleImage } from '../extract/article-image.js';
import { type ExtractOptions, resolveExtractOptions } from '../options.js';
import { parseReference } from '../reference.js';
import { runLifecycle } from '../run/run-lifecycle.js';
import { CONTENTS_DIR } from '../template.js';
import { runShellSession } from './shell-session.js';

/**
 * Options of {@link openShell}: the build options of `extractImage`, with the same defaults
 * (`base` 'alpine:3.20.3', `pull` 'missing', `keepImage` false).
 */
export type ShellOptions = Pick<
  ExtractOptions,
  'pull' | 'platform' | 'base' | 'keepImage' | 'labels' | 'docker' | 'signal' | 'log'
>;

/**
 * The article's first method: builds `FROM base` + `COPY --from=IMAGE / /distroless-contents/`, runs its
 * shell attached to this process's stdin, stdout and stderr (`docker run --rm -it`), and returns the
 * shell's exit code. With a terminal on stdin the container gets a TTY that follows the terminal's size;
 * otherwise stdin is piped in and the container's stdout and stderr come out separately.
 * The container is always removed, and the built image too unless `keepImage`.
 */
export async function openShell(image: string, options: ShellOptions = {}): Promise<number> {
  const opts = resolveExtractOptions(options);
  const ref = parseReference(image);
  const baseRef = parseReference(opts.base);
  const { signal, log } = opts;
  return runLifecycle(
    { docker: opts.docker, labels: opts.labels, signal, log, keepImage: opts.keepImage },
    async ({ docker, resources }) => {
      const { builtId } = await buildArticleImage(docker, ref, baseRef, {
        pull: opts.pull,
        platform: opts.platform,
        resources,
        signal,
        log,
        // Tagged like extract's kept images, so clean-ups of interrupted runs spare it.
        keep: opts.keepImage,
      });

      const tty = process.stdin.isTTY === true;
      const container = await docker.createContainer({
        Image: builtId,
        Labels: { ...resources.labels },
        Tty: tty,
        OpenStdin: true,
        StdinOnce: true,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        HostConfig: { NetworkMode: 'none' },
      });
      // Attached before start, so the first prompt and anything a piped script prints are not lost.
      const connection = (await container.attach({
        stream: true,
        stdin: true,
        stdout: true,
        stderr: true,
        hijack: true,
      })) as unknown as Socket;
      log(`opening a shell in ${CONTENTS_DIR}${tty ? ' (exit or ^D to leave)' : ''}`);
      return runShellSession(container, connection, {
        tty,
        signal,
        start: async () => {
          try {
            await container.start();
          } catch (error) {
            throw startError(error, opts.base);
          }
        },
      });
    },
  );
}
