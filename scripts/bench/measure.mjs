import { execa } from 'execa';

/** Runs a command under GNU time; resolves to wall seconds (measured here) and the peak RSS in MiB. */
export async function timed(command, args, options = {}) {
  const started = performance.now();
  const result = await execa('/usr/bin/time', ['-f', '%M', command, ...args], {
    reject: false,
    all: false,
    ...options,
  });
  const seconds = (performance.now() - started) / 1000;
  if (result.exitCode !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.exitCode}): ${result.stderr.trim().slice(-2000)}`,
    );
  }
  const lines = result.stderr.trim().split('\n');
  const rssKiB = Number(lines[lines.length - 1]);
  return { seconds, rssMiB: rssKiB / 1024 };
}

/** Wall seconds of a sequence of steps (each a process), as a person typing them would spend. */
export async function timedSteps(steps) {
  const started = performance.now();
  for (const step of steps) await step();
  return { seconds: (performance.now() - started) / 1000 };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Least-squares line through (x, y): slope, intercept and R². */
export function fitLine(points) {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const ssTot = points.reduce((s, [, y]) => s + (y - my) ** 2, 0);
  const ssRes = points.reduce((s, [x, y]) => s + (y - (intercept + slope * x)) ** 2, 0);
  return { slope, intercept, r2: ssTot === 0 ? 1 : 1 - ssRes / ssTot };
}
