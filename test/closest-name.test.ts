import { describe, expect, it } from 'vitest';
import { closestName } from '../src/closest-name.js';

const OPTIONS = [
  'output',
  'output-dir',
  'manifest',
  'force',
  'pull',
  'platform',
  'base',
  'json',
  'jobs',
  'quiet',
];

describe('closestName', () => {
  it.each([
    ['outptu', 'output'], // two neighbours swapped: one edit
    ['ouput', 'output'],
    ['manifets', 'manifest'],
    ['plaform', 'platform'],
    ['jsn', 'json'],
    ['outputdir', 'output-dir'],
    ['mani', 'manifest'], // an abbreviation of one option only
  ])('takes %s for --%s', (typed, meant) => {
    expect(closestName(typed, OPTIONS)).toBe(meant);
  });

  it.each([['zzzzzz'], ['out'], ['frobnicate'], ['output']])('offers nothing for %s', (typed) => {
    // `out` abbreviates two options; `output` is known already.
    expect(closestName(typed, OPTIONS)).toBeUndefined();
  });

  it('finds a local image one typo away', () => {
    const local = ['distroless-contents-test/static:nonroot', 'distroless-contents-test/shell'];
    expect(closestName('distroless-contents-test/statc:nonroot', local)).toBe(local[0]);
  });
});
