import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBytes, encodeBytes } from '../../src/tar/byte-string.js';
import { visible, visibleJson, visibleLines, visibleText } from '../../src/text/visible.js';
import { RAW_HIDDEN } from '../support/raw-hidden.js';

const bytes = (...values: number[]) => decodeBytes(Buffer.from(values));

/** Every class the quoting must show, with the escape each character gets. */
const CLASSES: Record<string, [string, string][]> = {
  'named C0 controls': [
    ['\x07', '\\a'],
    ['\b', '\\b'],
    ['\t', '\\t'],
    ['\n', '\\n'],
    ['\v', '\\v'],
    ['\f', '\\f'],
    ['\r', '\\r'],
    ['\x1b', '\\e'],
  ],
  'other C0 controls and DEL': [
    ['\x00', '\\x00'],
    ['\x01', '\\x01'],
    ['\x1f', '\\x1f'],
    ['\x7f', '\\x7f'],
  ],
  'C1 controls (characters, their UTF-8 is C2 80..C2 9F)': [
    ['\u0080', '\\u0080'],
    ['\u0085', '\\u0085'],
    ['\u009b', '\\u009b'],
    ['\u009d', '\\u009d'],
    ['\u009f', '\\u009f'],
  ],
  'bidi controls': [
    ['\u202a', '\\u202a'],
    ['\u202b', '\\u202b'],
    ['\u202c', '\\u202c'],
    ['\u202d', '\\u202d'],
    ['\u202e', '\\u202e'],
    ['\u2066', '\\u2066'],
    ['\u2067', '\\u2067'],
    ['\u2068', '\\u2068'],
    ['\u2069', '\\u2069'],
    ['\u200e', '\\u200e'],
    ['\u200f', '\\u200f'],
    ['\u061c', '\\u061c'],
  ],
  'other format and invisible characters': [
    ['\u200b', '\\u200b'],
    ['\u200d', '\\u200d'],
    ['\u2060', '\\u2060'],
    ['\ufeff', '\\ufeff'],
    ['\u00ad', '\\u00ad'],
    ['\u3164', '\\u3164'],
    ['\ufe0f', '\\ufe0f'],
    ['\u{e0041}', '\\U000e0041'],
  ],
  'separators and spaces other than U+0020': [
    ['\u2028', '\\u2028'],
    ['\u2029', '\\u2029'],
    ['\u00a0', '\\u00a0'],
    ['\u2003', '\\u2003'],
    ['\u3000', '\\u3000'],
  ],
  noncharacters: [
    ['\ufffe', '\\ufffe'],
    ['\u{10ffff}', '\\U0010ffff'],
  ],
  'bytes that are not UTF-8': [
    [bytes(0x80), '\\x80'],
    [bytes(0x9b), '\\x9b'],
    [bytes(0xc3), '\\xc3'],
    [bytes(0xff), '\\xff'],
  ],
};

describe('visible: names as a terminal may show them', () => {
  for (const [title, cases] of Object.entries(CLASSES)) {
    it(`escapes ${title}`, () => {
      for (const [char, escaped] of cases) {
        expect(visible(`a${char}b`)).toBe(`$'a${escaped}b'`);
        expect(visible(`a${char}b`)).not.toMatch(RAW_HIDDEN);
      }
    });
  }

  it('leaves plain names alone, letters of every script and emoji included', () => {
    for (const name of ['usr/bin/env', 'ünïcødé', '日本語.txt', 'שלום', 'a b', '😀', 'x"y', '$HOME', 'a$b']) {
      expect(visible(name)).toBe(name);
    }
  });

  it("quotes a literal backslash or quote, so escapes inside $'...' are never ambiguous", () => {
    expect(visible('a\\eb')).toBe("$'a\\\\eb'");
    expect(visible('a\\eb')).not.toBe(visible('a\x1bb'));
    expect(visible("it's")).toBe("$'it\\'s'");
    // A name that looks like a quoted one is quoted itself.
    expect(visible("$'\\e'")).toBe("$'$\\'\\\\e\\''");
    expect(visible('')).toBe("''");
  });

  it('keeps a byte that is not UTF-8 apart from the character of the same number', () => {
    expect(visible(bytes(0x9b))).toBe("$'\\x9b'");
    expect(visible('\u009b')).toBe("$'\\u009b'");
    expect(visible(bytes(0xc3, 0xbf))).toBe('ÿ');
    expect(visible(bytes(0x6e, 0xff))).not.toBe(visible(bytes(0x6e, 0xfe)));
  });

  it('quotes a leading combining mark and leading or trailing spaces', () => {
    expect(visible('\u0338x')).toBe("$'\\u0338x'");
    expect(visible('e\u0301')).toBe('e\u0301');
    expect(visible(' x')).toBe("$' x'");
    expect(visible('x ')).toBe("$'x '");
  });

  it('gives bash the exact bytes back: $(printf %s QUOTED) is the name', () => {
    // Names are NUL-free byte strings; the property runs on arbitrary bytes and on hostile characters.
    const hostile = fc.constantFrom(
      ...Object.values(CLASSES)
        .flat()
        .map(([char]) => char)
        .filter((char) => char !== '\x00'),
      '\\',
      "'",
      '"',
      '$',
      '`',
      ' ',
      'ü',
      '😀',
      '\u0338',
    );
    const names = fc.sample(
      fc.oneof(
        fc
          .uint8Array({ minLength: 1, maxLength: 24 })
          .map((b) => decodeBytes(Buffer.from(b.map((x) => x || 1)))),
        fc
          .array(fc.oneof(hostile, fc.string({ maxLength: 3 })), { minLength: 1, maxLength: 8 })
          .map((parts) => parts.join('').replace(/\0/g, '')),
      ),
      { numRuns: 400, seed: 10 },
    );
    const quoted = names.filter((name) => name !== '' && visible(name) !== name);
    expect(quoted.length).toBeGreaterThan(300);
    const script = quoted.map((name) => `printf '%s\\0' ${visible(name)}`).join('\n');
    const out = execFileSync('bash', ['-c', script], { env: { ...process.env, LC_ALL: 'C.UTF-8' } });
    const parts: Buffer[] = [];
    for (let start = 0, end = out.indexOf(0); end >= 0; start = end + 1, end = out.indexOf(0, start)) {
      parts.push(out.subarray(start, end));
    }
    expect(parts.length).toBe(quoted.length);
    quoted.forEach((name, index) => {
      expect(parts[index]?.toString('hex'), visible(name)).toBe(encodeBytes(name).toString('hex'));
    });
  });
});

describe('visibleText: a line of prose with foreign words in it', () => {
  it('quotes each word that holds a hidden character and keeps the rest of the line', () => {
    const line = 'Error response from daemon: No such image: evil\x1b]2;owned\x07:latest (retry)';
    expect(visibleText(line)).toBe(
      "Error response from daemon: No such image: $'evil\\e]2;owned\\a:latest' (retry)",
    );
    expect(visibleText("see C:\\temp and it's fine")).toBe("see C:\\temp and it's fine");
    expect(visibleText('overwrite\rfake line')).toBe("$'overwrite\\rfake' line");
  });

  it('leaves text already made visible unchanged', () => {
    const once = `removed ${visible('a\x1b[2J b\u202e')} and ${visible('c\\d')}`;
    expect(visibleText(once)).toBe(once);
    expect(visibleLines(`${once}\n${once}`)).toBe(`${once}\n${once}`);
  });

  it('keeps line breaks between lines and escapes the rest', () => {
    expect(visibleLines('one\x1b[H\ntwo\u202e')).toBe("$'one\\e[H'\n$'two\\u202e'");
  });
});

describe('visibleJson', () => {
  it('escapes C0, C1, bidi, format characters and bytes that are not UTF-8, and parses back to the same value', () => {
    const value = {
      names: Object.values(CLASSES)
        .flat()
        .map(([char]) => `x${char}y`),
      plain: 'ünï 😀',
    };
    const text = visibleJson(value);
    // The indentation's line breaks are the only raw controls left.
    expect(text.replace(/\n/g, '')).not.toMatch(RAW_HIDDEN);
    expect(visibleJson(value, 0)).not.toMatch(RAW_HIDDEN);
    expect(text).toContain('x\\u202ey');
    expect(text).toContain('x\\u009by');
    expect(text).toContain('x\\udcffy');
    expect(text).toContain('x\\udb40\\udc41y');
    expect(text).toContain('ünï 😀');
    expect(JSON.parse(text)).toEqual(value);
    expect(JSON.parse(visibleJson(value, 0))).toEqual(value);
  });
});
