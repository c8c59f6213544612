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
});
