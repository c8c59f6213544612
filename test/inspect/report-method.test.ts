import { afterEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { reportFor, reportMethod } from '../../src/inspect/report.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('the method of a report with --layers', () => {
  it('is fast unless told, and keeps any method without --layers', () => {
    expect(reportMethod(true, undefined)).toBe('fast');
    expect(reportMethod(true, 'fast')).toBe('fast');
    expect(reportMethod(false, undefined)).toBeUndefined();
    expect(reportMethod(false, 'article')).toBe('article');
  });

  it('refuses --method article in the library, before any engine is asked', async () => {
    // No engine answers there: a refusal after the dump had started would be an engine error instead.
    vi.stubEnv('DOCKER_HOST', 'unix:///nonexistent/docker.sock');
    const refused = reportFor('distroless-contents-test/edge:latest', { layers: true, method: 'article' });
    await expect(refused).rejects.toThrow(UsageError);
    await expect(refused).rejects.toThrow(
      '--layers reads the layers of the image, and --method article reads none: drop --method article.',
    );
  });
});
