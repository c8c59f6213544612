import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseRegistrySource } from '../../src/sources/registry-reference.js';
import { sourceKey } from '../../src/sources/source-reference.js';

describe('parseRegistrySource: docker://HOST/NAME:TAG|@DIGEST', () => {
  const digest = `sha256:${'a'.repeat(64)}`;

  it('splits registry, repository, tag and digest, normalised as the docker CLI does', () => {
    expect(parseRegistrySource('docker://localhost:5000/app:1.2')).toEqual({
      transport: 'docker',
      registry: 'localhost:5000',
      repository: 'app',
      tag: '1.2',
      raw: 'docker://localhost:5000/app:1.2',
    });
    expect(parseRegistrySource('docker://alpine')).toMatchObject({
      registry: 'docker.io',
      repository: 'library/alpine',
      tag: 'latest',
    });
    expect(parseRegistrySource(`docker://gcr.io/distroless/static@${digest}`)).toEqual({
      transport: 'docker',
      registry: 'gcr.io',
      repository: 'distroless/static',
      digest,
      raw: `docker://gcr.io/distroless/static@${digest}`,
    });
    expect(parseRegistrySource('docker://[::1]:5000/a/b:c')).toMatchObject({
      registry: '[::1]:5000',
      repository: 'a/b',
    });
  });

  it('leaves other sources alone and refuses what names no image', () => {
    expect(parseRegistrySource('oci:./layout')).toBeUndefined();
    expect(parseRegistrySource('localhost:5000/app')).toBeUndefined();
    expect(() => parseRegistrySource('docker://')).toThrow(UsageError);
    expect(() => parseRegistrySource('docker://Bad/Name')).toThrow(/Invalid image reference/);
    expect(() => parseRegistrySource(`docker://${digest}`)).toThrow(/image ID, which only an engine knows/);
  });

  it('gives batches one key per image, whatever way it was written', () => {
    expect(sourceKey('docker://alpine')).toBe('docker://docker.io/library/alpine:latest');
    expect(sourceKey('docker://docker.io/library/alpine:latest')).toBe(sourceKey('docker://alpine'));
    expect(sourceKey('docker://alpine')).not.toBe(sourceKey('alpine'));
  });
});
