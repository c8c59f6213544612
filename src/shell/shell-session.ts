import type { Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import { demuxStream } from './demux-stream.js';

export interface ShellSessionOptions {
  /** The container's TTY is on: raw bytes both ways, terminal in raw mode, sizes followed. */
  readonly tty: boolean;
  /** Starts the container; called once the local side is wired, so no output is missed. */
  readonly start: () => Promise<void>;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Connects this process's terminal to a created container through its hijacked attach connection, starts
 * it, and returns the exit code once it has stopped and all its output is written. The terminal's mode,
 * stdin and listeners are always given back, whatever happens.
 */
export async function runShellSession(
  container: Docker.Container,
  connection: Socket,
  options: ShellSessionOptions,
): Promise<number> {
  const { stdin, stdout, stderr } = process;
  const output = options.tty
    ? pipeline(connection, stdout, { end: false })
    : pipeline(connection, demuxStream(stdout, stderr));
  // Marks the rejection handled when we leave early; the awaited path still sees it.
  output.catch(() => {});
  const wasRaw = stdin.isTTY === true && stdin.isRaw;
  const resize = () => {
    if (!stdout.isTTY) return;
    // A failed resize only leaves the old size; the container may have exited a moment ago.
    container.resize({ h: stdout.rows, w: stdout.columns }).catch(() => {});
  };
  const stopInput = forwardInput(stdin, connection, !options.tty);
  try {
    // Raw: keys such as ^C and ^D reach the container's shell as bytes instead of acting on this process.
    if (options.tty && stdin.isTTY) stdin.setRawMode(true);
    await options.start();
    if (options.tty) {
      resize();
      stdout.on('resize', resize);
    }
    const exit = (await container.wait({ abortSignal: options.signal })) as { StatusCode: number };
    // The engine closes the connection once the last output is sent.
    await output;
    return exit.StatusCode;
  } finally {
    stdout.off('resize', resize);
    // Before stopInput: on a terminal that has gone away this fails, as an error event that it handles.
    if (options.tty && stdin.isTTY) stdin.setRawMode(wasRaw);
    stopInput();
    connection.destroy();
  }
}

/**
 * Copies `input` to the connection by hand rather than through pipeline: pipeline destroys its source when
 * the shell exits first, and the source here is the caller's stdin, which must stay usable (raw mode is
 * restored through it). Returns a function that stops the copy and lets stdin go idle.
 */
function forwardInput(input: NodeJS.ReadStream, connection: Socket, endOnEof: boolean): () => void {
  let stopped = false;
  const onData = (chunk: Buffer) => {
    if (!connection.writable) return;
    if (!connection.write(chunk)) {
      input.pause();
      connection.once('drain', () => {
        if (!stopped) input.resume();
      });
    }
  };
  // Closing the container's stdin (StdinOnce) gives its shell end of input, so it exits.
  const closeInput = () => {
    if (connection.writable) connection.end();
  };
  const onEnd = () => {
    if (endOnEof) closeInput();
  };
  // A terminal that went away (EIO) cannot type again; the hangup signal that comes with it stops the run.
  const onError = closeInput;
  input.on('data', onData);
  input.once('end', onEnd);
  input.on('error', onError);
  return () => {
    stopped = true;
    input.off('data', onData);
    input.off('end', onEnd);
    input.off('error', onError);
    input.pause();
  };
}
