import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { parseReference, repositoryName } from '../src/reference.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('parseReference', () => {
  it.each([
    [
      'gcr.io/distroless/static-debian12:nonroot',
      { registry: 'gcr.io', path: 'distroless/static-debian12', tag: 'nonroot' },
    ],
    ['alpine', { path: 'alpine' }],
    ['library/alpine:3.20.3', { path: 'library/alpine', tag: '3.20.3' }],
    ['localhost:5000/team/app:v1.2', { registry: 'localhost:5000', path: 'team/app', tag: 'v1.2' }],
    ['localhost/app', { registry: 'localhost', path: 'app' }],
    ['[::1]:5000/app', { registry: '[::1]:5000', path: 'app' }],
    ['Registry/app', { registry: 'Registry', path: 'app' }],
    ['a__b/c-d.e---f:TAG_1.x-y', { path: 'a__b/c-d.e---f', tag: 'TAG_1.x-y' }],
    [`app@${DIGEST}`, { path: 'app', digest: DIGEST }],
  ])('accepts %s', (raw, expected) => {
    expect(parseReference(raw)).toEqual({ raw, ...expected });
  });

  it('keeps the tag beside a digest instead of folding it into the name', () => {
    const ref = parseReference(`gcr.io/distroless/static:nonroot@${DIGEST}`);
    expect(ref).toMatchObject({
      registry: 'gcr.io',
      path: 'distroless/static',
      tag: 'nonroot',
      digest: DIGEST,
    });
    expect(repositoryName(ref)).toBe('gcr.io/distroless/static');
  });

  it('accepts a full image ID', () => {
    expect(parseReference(DIGEST)).toEqual({ raw: DIGEST, path: DIGEST });
  });

  it.each([
    '',
    'alpine latest',
    'alpine\nRUN rm -rf /',
    'alpine"',
    "alpine'",
    'alpine:$TAG',
    '$(id)',
    'Alpine',
    'alpine:',
    ':latest',
    'alpine@sha256:short',
    '-alpine',
    'alpine:-tag',
    '/alpine',
    'alpine/',
    'a//b',
    `alpine:${'t'.repeat(129)}`,
    `${'a'.repeat(256)}`,
    'x'.repeat(5000),
  ])('refuses %j with a usage error', (raw) => {
    expect(() => parseReference(raw)).toThrow(UsageError);
    try {
      parseReference(raw);
    } catch (error) {
      expect((error as UsageError).code).toBe('INVALID_REFERENCE');
      expect((error as UsageError).message).not.toContain('\n');
    }
  });

  it.each([
    ['alpine ', 'character 7 is a space, which no reference may hold'],
    ['alpine\tx', 'character 7 is whitespace ("\\t"), which no reference may hold'],
    ['Alpine', "character 1 is uppercase 'A'; repository names are lowercase"],
    ['gcr.io/Distroless/x', "character 8 is uppercase 'D'; repository names are lowercase"],
    ['alpine:', "nothing follows the ':' at character 7"],
    ['alpine:-tag', "character 8 starts the tag with '-'"],
    ['a//b', 'the name has an empty part at character 3'],
    ['a..b', "characters 2-3 are '..'"],
    ['alpine@sha256:abc', 'the sha256 digest has 3 hex digits, not 64'],
    [`app@sha256:${'a'.repeat(63)}`, 'the sha256 digest has 63 hex digits, not 64'],
    [`app@sha256:${'A'.repeat(64)}`, "character 12 is 'A'; a digest is lowercase hex"],
    ['app@md5:abc', "the digest after '@' (character 4) must be sha256:"],
    ['a\u202eb', "character 2 is '\\u202e', which no reference may hold"],
  ])('points at what is wrong in %j', (raw, where) => {
    expect(() => parseReference(raw)).toThrow(where);
  });
});
