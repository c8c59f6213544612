import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBytes, encodeBytes } from '../../src/text/byte-string.js';

/** Python's own surrogateescape decoder is the oracle: each input as hex, each output as UTF-16 code units. */
function pythonDecode(inputs: readonly Uint8Array[]): number[][] {
  const program = [
    'import sys, json',
    'out = []',
    "for line in sys.stdin.read().split('\\n'):",
    "    s = bytes.fromhex(line[1:]).decode('utf-8', 'surrogateescape')",
    "    u = s.encode('utf-16-le', 'surrogatepass')",
    "    out.append([int.from_bytes(u[i:i + 2], 'little') for i in range(0, len(u), 2)])",
    'print(json.dumps(out))',
  ].join('\n');
  // A mark before each, so an empty input is a line too.
  const input = inputs.map((bytes) => `:${Buffer.from(bytes).toString('hex')}`).join('\n');
  return JSON.parse(execFileSync('python3', ['-c', program], { input, encoding: 'utf8' }));
}

const units = (text: string) => Array.from({ length: text.length }, (_, i) => text.charCodeAt(i));

describe('decodeBytes and encodeBytes (names are bytes)', () => {
  it("decodes as Python's surrogateescape does, and encodes back to the same bytes", () => {
    // Valid UTF-8 of every length, truncated and overlong sequences, encoded surrogates, bytes above F4.
    const tricky = fc.constantFrom(
      [0xc3, 0xa9],
      [0xe2, 0x80, 0xae],
      [0xf0, 0x9f, 0x93, 0xbf],
      [0xe2, 0x82],
      [0xc0, 0xaf],
      [0xe0, 0x80, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xed, 0x9f, 0xbf],
      [0xf4, 0x90, 0x80, 0x80],
      [0xf8],
      [0xff],
      [0x80],
    );
    const inputs = fc.sample(
      fc.oneof(
        fc.uint8Array({ maxLength: 20 }),
        fc
          .array(fc.oneof(tricky, fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 2 })), {
            maxLength: 6,
          })
          .map((parts) => Uint8Array.from(parts.flat())),
      ),
      { numRuns: 600, seed: 10 },
    );
    const expected = pythonDecode(inputs);
    inputs.forEach((input, index) => {
      const decoded = decodeBytes(input);
      expect(units(decoded), Buffer.from(input).toString('hex')).toEqual(expected[index]);
      expect(encodeBytes(decoded).toString('hex')).toBe(Buffer.from(input).toString('hex'));
    });
  });

  it('gives names that differ in one byte different strings, and keeps astral characters whole', () => {
    expect(decodeBytes(Buffer.from([0x6e, 0xff]))).not.toBe(decodeBytes(Buffer.from([0x6e, 0xfe])));
    // U+1F4FF's low surrogate is DCFF: a pair, not an escaped byte.
    expect(encodeBytes('\u{1f4ff}').toString('hex')).toBe('f09f93bf');
  });
});
