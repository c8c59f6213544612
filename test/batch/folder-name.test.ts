import { describe, expect, it } from 'vitest';
import { folderName } from '../../src/batch/folder-name.js';
import { normalizeReference, parseReference } from '../../src/reference.js';

describe('folderName', () => {
  it('is readable: the normalised reference with unsafe characters as _', () => {
    expect(folderName('gcr.io/distroless/static-debian12:nonroot')).toMatch(
      /^gcr\.io_distroless_static-debian12_nonroot-[0-9a-f]{8}$/,
    );
    expect(folderName('alpine')).toMatch(/^alpine_latest-[0-9a-f]{8}$/);
  });

  it('gives one folder to one image however it is written', () => {
    expect(folderName('alpine')).toBe(folderName('docker.io/library/alpine:latest'));
    expect(folderName('library/alpine:latest')).toBe(folderName('alpine:latest'));
  });

  it('never gives two different images the same folder, even when their readable parts agree', () => {
    const references = [
      'a/b:c',
      'a_b:c',
      'a/b_c',
      'a:b_c',
      'localhost:5000/a:b',
      'localhost_5000/a:b',
      'x/y',
      'x_y',
    ];
    const names = references.map(folderName);
    expect(new Set(names).size).toBe(references.length);
    expect(folderName('a/b:c').replace(/-[0-9a-f]{8}$/, '')).toBe(
      folderName('a_b:c').replace(/-[0-9a-f]{8}$/, ''),
    );
  });

  it('stays a single path component for digests and registries with ports', () => {
    const name = folderName(`localhost:5000/team/app:v1@sha256:${'b'.repeat(64)}`);
    expect(name).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(name).not.toContain('/');
  });
});

describe('normalizeReference', () => {
  it.each([
    ['alpine', 'docker.io/library/alpine:latest'],
    ['team/app', 'docker.io/team/app:latest'],
    ['gcr.io/distroless/static:nonroot', 'gcr.io/distroless/static:nonroot'],
    [`app@sha256:${'c'.repeat(64)}`, `docker.io/library/app@sha256:${'c'.repeat(64)}`],
  ])('%s -> %s', (raw, normalized) => {
    expect(normalizeReference(parseReference(raw))).toBe(normalized);
  });
});
