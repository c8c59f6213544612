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

/**
 * Progress on stderr that fits both places: on a terminal, one live line per step (bytes, entries, rate,
 * time left); in CI or when piped, a few plain lines (each step with its duration). Nothing with --quiet.
 */
export function progressReporter(options: ReporterOptions): ProgressListener {
  const stream = options.stream ?? process.stderr;
  const env = options.env ?? process.env;
  if (options.quiet) return () => {};
  const live = stream.isTTY === true && !env.CI && options.prefix === undefined;
  // Names and the build's own output come from the image or the engine: shown, never acted on.
  const prefix = visibleText(options.prefix ?? '');
  const color = live && !env.NO_COLOR;
  const dim = (text: string) => (color ? `\x1b[2m${text}\x1b[22m` : text);
  const green = (text: string) => (color ? `\x1b[32m${text}\x1b[39m` : text);
  let started = 0;
  const redraw = (line: string) => {
    stream.write(`\r\x1b[K${line.slice(0, Math.max(20, (stream.columns ?? 80) - 1))}`);
  };
  return (event: ProgressEvent) => {
    if (event.kind === 'step' && event.state === 'start') {
      started = performance.now();
      const line = `${VERBS[event.step]}${event.detail ? ` ${visibleText(event.detail)}` : ''}`;
      if (live) redraw(`${line}…`);
      else stream.write(`${prefix}${line}\n`);
    } else if (event.kind === 'step') {
      const seconds = `${(event.durationMs / 1000).toFixed(1)} s`;
      if (live) stream.write(`\r\x1b[K${green('✔')} ${VERBS[event.step]} ${dim(seconds)}\n`);
      else stream.write(`${prefix}${VERBS[event.step]}: done in ${seconds}\n`);
    } else if (live && event.kind === 'output') {
      redraw(`${event.step}: ${visibleText(event.line.trim())}`);
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
      redraw(parts.join('  '));
    }
  };
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
