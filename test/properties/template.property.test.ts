import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { readTemplate, renderDockerfile } from '../../src/template.js';
import { foreignReference, REFERENCE_ALPHABET, validReference } from './reference-arbitrary.js';

const anyValue = fc.oneof(
  validReference.map((ref) => ref.raw),
  foreignReference,
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom('alpine\nRUN id', 'alpine --chown=0', 'a"b', '$HOME', 'x\\\nRUN id', '{{image}}'),
);

describe('renderDockerfile, for any values', () => {
  it('refuses them, or writes each as one word of the reference alphabet in its own place and nowhere else', () => {
    const template = readTemplate().split('\n');
    const fromLine = template.findIndex((line) => line.includes('{{base}}'));
    const copyLine = template.findIndex((line) => line.includes('{{image}}'));
    expect(fromLine).toBeGreaterThanOrEqual(0);
    expect(copyLine).toBeGreaterThanOrEqual(0);
    fc.assert(
      fc.property(anyValue, anyValue, (image, base) => {
        let rendered: string;
        try {
          rendered = renderDockerfile({ image, base });
        } catch (error) {
          expect(error).toBeInstanceOf(UsageError);
          expect((error as UsageError).code).toBe('INVALID_REFERENCE');
          return;
        }
        expect(image).toMatch(REFERENCE_ALPHABET);
        expect(base).toMatch(REFERENCE_ALPHABET);
        const lines = rendered.split('\n');
        // No line added, removed or changed, but the two that name the images.
        expect(lines).toHaveLength(template.length);
        for (const [i, line] of lines.entries()) {
          if (i !== fromLine && i !== copyLine) expect(line).toBe(template[i]);
        }
        // Each value is one whole word: it can add no instruction, flag or argument.
        expect(lines[fromLine]?.split(/\s+/)).toEqual(['FROM', base]);
        expect(lines[copyLine]?.split(/\s+/)).toEqual(
          template[copyLine]?.replace('{{image}}', image).split(/\s+/),
        );
        expect(lines[copyLine]?.split(/\s+/)).toContain(`--from=${image}`);
      }),
      { numRuns: 1000 },
    );
  });
});
