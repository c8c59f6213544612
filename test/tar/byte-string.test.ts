import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBytes, encodeBytes } from '../../src/tar/byte-string.js';

// Bytes that stress a UTF-8 decoder: continuation bytes, lead bytes, overlong and surrogate starts.
const nastyByte = fc.oneof(
  fc.integer({ min: 0, max: 255 }),
  fc.constantFrom(0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x2f, 0x00),
);
const byteStrings = fc.array(nastyByte, { maxLength: 24 }).map((bytes) => Buffer.from(bytes));

describe('byte strings', () => {
  it('decodes valid UTF-8 as UTF-8 and each other byte as U+DC00+byte', () => {
    expect(decodeBytes(Buffer.from('etc/pässwd €𝄞'))).toBe('etc/pässwd €𝄞');
    expect(decodeBytes(Buffer.from([0x66, 0xff]))).toBe('f\udcff');
    // Truncated, overlong and surrogate sequences: every byte on its own.
    expect(decodeBytes(Buffer.from([0xe2, 0x82, 0x41]))).toBe('\udce2\udc82A');
    expect(decodeBytes(Buffer.from([0xc0, 0xaf]))).toBe('\udcc0\udcaf');
    expect(decodeBytes(Buffer.from([0xed, 0xa0, 0x80]))).toBe('\udced\udca0\udc80');
    expect(decodeBytes(Buffer.from([0xf4, 0x90, 0x80, 0x80]))).toBe('\udcf4\udc90\udc80\udc80');
  });

  it('round-trips every byte string, and two byte strings never share a decoding', () => {
    fc.assert(
      fc.property(byteStrings, byteStrings, (a, b) => {
        expect(encodeBytes(decodeBytes(a)).equals(a)).toBe(true);
        expect(decodeBytes(a) === decodeBytes(b)).toBe(a.equals(b));
      }),
      { numRuns: 3000 },
    );
  });

  it("agrees with Python's surrogateescape", () => {
    const samples = fc.sample(byteStrings, { numRuns: 400, seed: 7 });
    const hex = samples.map((bytes) => bytes.toString('hex')).join('\n');
    const script =
      'import sys, json\nfor line in sys.stdin.read().split("\\n"):\n  print(json.dumps(bytes.fromhex(line).decode("utf-8", "surrogateescape")))';
    const lines = execFileSync('python3', ['-c', script], { input: hex, encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual(samples.map(decodeBytes));
  });

  it('keeps the identity through JSON', () => {
    const name = decodeBytes(Buffer.from([0x6e, 0xff]));
    expect(JSON.stringify(name)).toBe('"n\\udcff"');
    expect(encodeBytes(JSON.parse(JSON.stringify(name)))).toEqual(Buffer.from([0x6e, 0xff]));
  });

  it('refuses a lone surrogate no byte makes', () => {
    expect(() => encodeBytes('a\ud800')).toThrow(/U\+D800/);
    expect(() => encodeBytes('a\udc41')).toThrow(/U\+DC41/);
  });
});
