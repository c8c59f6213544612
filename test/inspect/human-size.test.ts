import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { humanSize, signedSize } from '../../src/inspect/human-size.js';

/** GNU numfmt with --round=up formats exactly as du -h does (both use gnulib's human.c). */
function numfmt(values: readonly number[]): string[] {
  return execFileSync('numfmt', ['--to=iec', '--round=up', ...values.map(String)], { encoding: 'utf8' })
    .trim()
    .split('\n');
}

describe('humanSize', () => {
  it('prints what du -h prints around every unit boundary', () => {
    const values = [0, 1, 1023, 1024, 1025, 4096, 4097, 10239, 10240, 10241, 1048575, 1048576, 5138022];
    for (let unit = 1024; unit <= 1024 ** 4; unit *= 1024)
      values.push(unit * 10 - 1, unit * 1023.5, unit * 1024 - 1);
    expect(values.map(humanSize)).toEqual(numfmt(values.map(Math.round)));
  });

  it('agrees with du -h on random sizes up to a petabyte', () => {
    const values = fc.sample(fc.integer({ min: 0, max: 2 ** 50 }), 500);
    expect(values.map(humanSize)).toEqual(numfmt(values));
  });

  it('signs deltas', () => {
    expect([signedSize(0), signedSize(4097), signedSize(-1024)]).toEqual(['0', '+4.1K', '-1.0K']);
  });
});
