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

const LABELS = { 'dev.distroless-contents.run': 'host/1/x' };

describe('renderDockerfile, for any values', () => {
  it('refuses them, or writes each as one word of the reference alphabet in its own place and nowhere else', () => {
    const template = readTemplate().split('\n');
    const fromLine = template.findIndex((line) => line.includes('{{base}}'));
    const copyLine = template.findIndex((line) => line.includes('{{image}}'));
    const labelLine = template.findIndex((line) => line.includes('{{labels}}'));
    expect(fromLine).toBeGreaterThanOrEqual(0);
    expect(copyLine).toBeGreaterThanOrEqual(0);
    fc.assert(
      fc.property(anyValue, anyValue, (image, base) => {
        let rendered: string;
        try {
          rendered = renderDockerfile({ image, base, labels: LABELS });
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
          if (i === labelLine) expect(line).toBe('LABEL "dev.distroless-contents.run"="host/1/x"');
          else if (i !== fromLine && i !== copyLine) expect(line).toBe(template[i]);
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

const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('a"b', '$HOME', 'x\\', 'x\\\nRUN id', 'a\nRUN id', '\\"', '{{image}}'),
);

describe('renderDockerfile, for any labels', () => {
  it('refuses them, or writes them all inside the one LABEL line, each quote, dollar and backslash escaped', () => {
    const template = readTemplate().split('\n');
    const labelLine = template.findIndex((line) => line.includes('{{labels}}'));
    fc.assert(
      fc.property(anyText, anyText, (key, value) => {
        let rendered: string;
        try {
          rendered = renderDockerfile({ image: 'a', base: 'b', labels: { [key]: value } });
        } catch (error) {
          expect(error).toBeInstanceOf(UsageError);
          // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused.
          expect(key + value).toMatch(/[\u0000-\u001f\u007f]/);
          return;
        }
        const lines = rendered.split('\n');
        expect(lines).toHaveLength(template.length);
        const line = lines[labelLine] as string;
        // Undo the escapes by hand: what is left between the four bare quotes is the key and the value.
        const match = /^LABEL "((?:[^"$\\]|\\["$\\])*)"="((?:[^"$\\]|\\["$\\])*)"$/.exec(line);
        expect(match, line).not.toBeNull();
        const unquote = (text: string) => text.replace(/\\(.)/g, '$1');
        expect([unquote(match?.[1] ?? ''), unquote(match?.[2] ?? '')]).toEqual([key, value]);
      }),
      { numRuns: 1000 },
    );
  });
});
