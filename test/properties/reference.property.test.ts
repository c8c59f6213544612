import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseReference, whereInvalid } from '../../src/reference.js';
import { docker } from '../support/leftovers.js';
import { FOREIGN, foreignReference, REFERENCE_ALPHABET, validReference } from './reference-arbitrary.js';

function refusal(raw: string): UsageError | undefined {
  try {
    parseReference(raw);
    return undefined;
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
}

/** How the engine's own parser takes `raw`: a name it looked up (found or not), or a malformed one (400). */
async function engineVerdict(raw: string): Promise<'parsed' | 'invalid'> {
  try {
    await new Promise((resolve, reject) => {
      docker.modem.dial(
        {
          path: `/images/${encodeURIComponent(raw)}/json?`,
          method: 'GET',
          statusCodes: { 200: true, 404: true, 400: 'invalid reference' },
        },
        (error: unknown, data: unknown) => (error ? reject(error) : resolve(data)),
      );
    });
    return 'parsed';
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 400) return 'invalid';
    throw error;
  }
}

describe('parseReference, for any input', () => {
  it('accepts every reference of the grammar and splits it into its parts', () => {
    fc.assert(
      fc.property(validReference, (ref) => {
        const { raw, ...parts } = ref;
        expect(parseReference(raw)).toEqual({ raw, ...parts });
      }),
      { numRuns: 500 },
    );
  });

  it('accepts nothing outside the grammar alphabet: no space, newline, quote, $, backslash or non-ASCII', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), foreignReference), (raw) => {
        if (refusal(raw) === undefined) {
          expect(raw).toMatch(REFERENCE_ALPHABET);
          expect(raw.length).toBeLessThanOrEqual(1024);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a reference with any foreign character in one line, as a usage error', () => {
    fc.assert(
      fc.property(foreignReference, (raw) => {
        const error = refusal(raw);
        expect(error?.code, JSON.stringify(raw)).toBe('INVALID_REFERENCE');
        expect(error?.message).not.toMatch(/[\n\r\u2028]/);
      }),
      { numRuns: 1000 },
    );
    expect(FOREIGN.length).toBeGreaterThan(10);
  });

  it('names where a refused reference leaves the grammar, for every near miss', () => {
    const nearMiss = fc.oneof(
      foreignReference,
      validReference.map((ref) => ref.raw.toUpperCase()),
      validReference.map((ref) => `${ref.raw}:`),
      validReference.map((ref) => `${ref.raw} `),
      validReference.map((ref) => ref.raw.replace(/[.]/, '..')),
      validReference.map((ref) => ref.raw.replace('/', '//')),
      validReference.map((ref) => `${ref.raw.split('@')[0]}@sha256:${'a'.repeat(40)}`),
    );
    fc.assert(
      fc.property(nearMiss, (raw) => {
        const error = refusal(raw);
        if (error === undefined || error.message.includes('longer than 255')) return;
        expect(whereInvalid(raw), JSON.stringify(raw)).toBeDefined();
      }),
      { numRuns: 2000 },
    );
  });
});

describe("parseReference agrees with the engine's own parser", () => {
  it('on references of the grammar and on ones a character away from it', async () => {
    const sample = fc.sample(
      fc.oneof(
        validReference.map((ref) => ref.raw),
        foreignReference,
        // Near misses the grammar decides by details: case, separators, lengths, digests.
        validReference.map((ref) => ref.raw.toUpperCase()),
        validReference.map((ref) => `${ref.raw}:`),
        validReference.map((ref) => ref.raw.replace(/[.]/, '..')),
        validReference.map((ref) => `${ref.raw.split('@')[0]}@sha256:${'a'.repeat(63)}`),
        validReference.map((ref) => `${ref.raw.split('@')[0]}@md5:${'a'.repeat(32)}`),
      ),
      { numRuns: 300, seed: 42 },
    );
    const disagreements: string[] = [];
    for (const raw of sample) {
      const ours = refusal(raw) === undefined ? 'parsed' : 'invalid';
      const engine = await engineVerdict(raw);
      if (ours !== engine) disagreements.push(`${JSON.stringify(raw)}: ours ${ours}, engine ${engine}`);
    }
    expect(disagreements).toEqual([]);
  });
});
