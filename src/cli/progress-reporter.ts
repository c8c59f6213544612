import type { ProgressEvent, ProgressListener, Step } from '../progress.js';
import { visibleText } from '../text/visible.js';

const VERBS: Readonly<Record<Step, string>> = {
  resolve: 'resolving images',
  pull: 'pulling',
  build: 'building',
  run: 'running',
  copy: 'copying',
  cleanup: 'cleaning up',
};

export interface ReporterOptions {
  readonly quiet: boolean;
  readonly stream?: NodeJS.WriteStream;
  readonly env?: NodeJS.ProcessEnv;
  /** Put before every line: the image, when several run at once (which also rules out the live line). */
  readonly prefix?: string;
}

/** A progress listener that also takes the run's log lines, so that they never glue onto the live line. */
export interface ProgressReporter extends ProgressListener {
  readonly log: (line: string) => void;
}

/** How often the live line's clock moves while a step gives no news of its own. */
const TICK_MS = 1000;

/**
 * Progress on stderr that fits both places: on a terminal, one live line per step (bytes, entries, rate,
 * time left, and the time the step has taken, so that a long COPY is seen to be alive); in CI or when
 * piped, a few plain lines (each step with its duration). Nothing with --quiet, log lines included.
 */
export function progressReporter(options: ReporterOptions): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  const env = options.env ?? process.env;
  if (options.quiet) return Object.assign(() => {}, { log: () => {} });
  const live = stream.isTTY === true && !env.CI && options.prefix === undefined;
  // Names and the build's own output come from the image or the engine: shown, never acted on.
  const prefix = visibleText(options.prefix ?? '');
  const color = live && !env.NO_COLOR;
  const dim = (text: string) => (color ? `\x1b[2m${text}\x1b[22m` : text);
  const green = (text: string) => (color ? `\x1b[32m${text}\x1b[39m` : text);
  let started = 0;
  /** What the live line says now, without its clock; undefined between steps. */
  let current: string | undefined;
  let ticker: NodeJS.Timeout | undefined;
  const redraw = () => {
    if (current === undefined) return;
    const clock = `  ${Math.floor((performance.now() - started) / 1000)} s`;
    const room = Math.max(20, (stream.columns ?? 80) - 1 - clock.length);
    stream.write(`\r\x1b[K${current.slice(0, room)}${dim(clock)}`);
  };
  const show = (line: string) => {
    current = line;
    redraw();
  };
  const stop = () => {
    clearInterval(ticker);
    ticker = undefined;
    current = undefined;
  };
  const listener = (event: ProgressEvent) => {
    if (event.kind === 'step' && event.state === 'start') {
      started = performance.now();
      const line = `${VERBS[event.step]}${event.detail ? ` ${visibleText(event.detail)}` : ''}`;
      if (!live) {
        stream.write(`${prefix}${line}\n`);
        return;
      }
      show(`${line}…`);
      clearInterval(ticker);
      ticker = setInterval(redraw, TICK_MS).unref();
    } else if (event.kind === 'step') {
      const seconds = `${(event.durationMs / 1000).toFixed(1)} s`;
      if (live) {
        stop();
        stream.write(`\r\x1b[K${green('✔')} ${VERBS[event.step]} ${dim(seconds)}\n`);
      } else stream.write(`${prefix}${VERBS[event.step]}: done in ${seconds}\n`);
    } else if (live && event.kind === 'output') {
      show(`${event.step}: ${visibleText(event.line.trim())}`);
    } else if (live && event.kind === 'transfer') {
      const elapsed = (performance.now() - started) / 1000;
      const rate = elapsed > 0 ? event.bytes / elapsed : 0;
      const parts = [
        `${event.step}: ${megabytes(event.bytes)}${event.totalBytes ? ` of ~${megabytes(event.totalBytes)}` : ''}`,
        `${event.entries.toLocaleString('en-US')} ${event.step === 'pull' ? 'layers' : 'entries'}`,
        `${megabytes(rate)}/s`,
      ];
      if (event.totalBytes && rate > 0 && event.bytes < event.totalBytes) {
        parts.push(`~${Math.ceil((event.totalBytes - event.bytes) / rate)} s left`);
      }
      show(parts.join('  '));
    }
  };
  const log = (line: string) => {
    // A line of its own above the live one, which is drawn again below it.
    if (live && current !== undefined) stream.write(`\r\x1b[K${visibleText(line)}\n`);
    else stream.write(`${prefix}${visibleText(line)}\n`);
    redraw();
  };
  return Object.assign(listener, { log });
}

/** For report and diff: an image target's extraction reports its progress as extract does. */
export function targetContext(signal: AbortSignal, quiet: boolean) {
  const progress = progressReporter({ quiet });
  return { signal, log: progress.log, onProgress: progress };
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
