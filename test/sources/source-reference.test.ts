import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseFileSource, sourceKey } from '../../src/sources/source-reference.js';

describe('parseFileSource: the containers/image transports', () => {
  it('splits PATH and the choice at the first colon after the transport, as containers/image does', () => {
    expect(parseFileSource('oci:./layout:1.2')).toEqual({
      transport: 'oci',
      path: resolve('layout'),
      ref: { name: '1.2' },
      raw: 'oci:./layout:1.2',
    });
    expect(parseFileSource('oci:/l:registry.example/app:v1')?.ref).toEqual({
      name: 'registry.example/app:v1',
    });
    expect(parseFileSource('oci-archive:app.tar')).toEqual({
      transport: 'oci-archive',
      path: resolve('app.tar'),
      raw: 'oci-archive:app.tar',
    });
    expect(parseFileSource('oci:/l:@2')?.ref).toEqual({ index: 2 });
    expect(parseFileSource('docker-archive:/a.tar:@0')?.ref).toEqual({ index: 0 });
  });

  it('normalises a docker-archive name:tag as the engine names images', () => {
    expect(parseFileSource('docker-archive:a.tar:app')?.ref).toEqual({
      name: 'docker.io/library/app:latest',
    });
    expect(parseFileSource('docker-archive:a.tar:localhost:5000/x/y:2')?.ref).toEqual({
      name: 'localhost:5000/x/y:2',
    });
  });

  it('leaves engine references alone, a registry with a port among them', () => {
    for (const raw of [
      'alpine',
      'localhost:5000/app:1',
      'gcr.io/distroless/static-debian12:nonroot',
      'ocilike:1',
    ]) {
      expect(parseFileSource(raw)).toBeUndefined();
    }
  });

  it('refuses what names no path, an empty choice, a digest for a docker-archive, a ref outside the grammar', () => {
    for (const raw of [
      'oci:',
      'oci::tag',
      'docker-archive:',
      'oci:/l:',
      'oci:/l:bad ref',
      'oci:/l:-lead',
      `docker-archive:a.tar:app@sha256:${'a'.repeat(64)}`,
      'docker-archive:a.tar:Upper',
    ]) {
      expect(() => parseFileSource(raw), raw).toThrow(UsageError);
    }
  });

  it('sourceKey: one key per image, so a batch extracts it once', () => {
    expect(sourceKey('oci:./l:1')).toBe(sourceKey(`oci:${resolve('l')}:1`));
    expect(sourceKey('oci:./l:1')).not.toBe(sourceKey('oci-archive:./l:1'));
    expect(sourceKey('docker-archive:a.tar:app')).toBe(
      sourceKey('docker-archive:a.tar:docker.io/library/app:latest'),
    );
    expect(sourceKey('alpine')).toBe('docker.io/library/alpine:latest');
  });
});
