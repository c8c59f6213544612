/**
 * Characters a terminal acts on or a reader cannot see: C0 controls, DEL and C1 controls (`\p{Cc}`), bidi
 * controls and other format characters (`\p{Cf}`), line and paragraph separators, spaces other than U+0020,
 * default-ignorable characters (fillers, variation selectors), noncharacters, and lone surrogates (each a
 * byte that was not UTF-8, under the names-are-bytes convention). The HTML page's script uses this source too.
 */
export const HIDDEN_SOURCE =
  '[\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}\\p{Cs}\\p{Default_Ignorable_Code_Point}\\p{Noncharacter_Code_Point}' +
  '\\u00a0\\u1680\\u2000-\\u200a\\u202f\\u205f\\u3000]';

const HIDDEN = new RegExp(HIDDEN_SOURCE, 'u');
const HIDDEN_ALL = new RegExp(HIDDEN_SOURCE, 'gu');
/** A combining mark first would draw itself over whatever is printed before the name. */
const LEADING_MARK = /^\p{M}/u;
/** What makes a name need quoting: a hidden character, a quote or backslash (so escapes stay unambiguous), a leading mark or space. */
const NEEDS_QUOTES = new RegExp(`${HIDDEN_SOURCE}|[\\\\']|^\\p{M}|^ | $`, 'u');

const NAMED: Readonly<Record<number, string>> = {
  7: '\\a',
  8: '\\b',
  9: '\\t',
  10: '\\n',
  11: '\\v',
  12: '\\f',
  13: '\\r',
  27: '\\e',
};

/**
 * The escape bash's `$'...'` reads back as the same bytes: `\e`, `\r`, `\x7f`; `\xff` for the byte 0xFF that
 * was not UTF-8 (U+DCFF); `\u009b`, `\u202e`, `\U000e0001` for characters (their UTF-8 bytes).
 */
export function escapeCharacter(char: string): string {
  const code = char.codePointAt(0) as number;
  const named = NAMED[code];
  if (named !== undefined) return named;
  if (code < 0x20 || code === 0x7f) return `\\x${hex(code, 2)}`;
  if (code >= 0xdc80 && code <= 0xdcff) return `\\x${hex(code - 0xdc00, 2)}`;
  if (code <= 0xffff) return `\\u${hex(code, 4)}`;
  return `\\U${hex(code, 8)}`;
}

function hex(value: number, digits: number): string {
  return value.toString(16).padStart(digits, '0');
}

/**
 * A name (path, link target, user, package field) as a terminal may show it: unchanged when every character
 * is plain, otherwise quoted as bash's `$'...'` (as `ls` does), so `\e` inside quotes is always an escape and
 * a literal backslash is `\\`. The quoted form, pasted into bash, gives back the name's exact bytes.
 */
export function visible(name: string): string {
  if (name === '') return "''";
  if (!NEEDS_QUOTES.test(name)) return name;
  let out = "$'";
  let first = true;
  for (const char of name) {
    if (char === '\\' || char === "'") out += `\\${char}`;
    else if (HIDDEN.test(char) || (first && LEADING_MARK.test(char))) out += escapeCharacter(char);
    else out += char;
    first = false;
  }
  return `${out}'`;
}

/**
 * One line of prose that may carry foreign text (an engine's error, a warning naming files): each
 * space-separated word holding a hidden character is shown as {@link visible} shows a name; plain words,
 * and names already made visible, pass unchanged.
 */
export function visibleText(line: string): string {
  if (!HIDDEN.test(line) && !/(?:^| )\p{M}/u.test(line)) return line;
  return line
    .split(' ')
    .map((word) => (HIDDEN.test(word) || LEADING_MARK.test(word) ? visible(word) : word))
    .join(' ');
}

/** Text of several lines, each made visible by {@link visibleText}; the line breaks themselves are kept. */
export function visibleLines(text: string): string {
  return text.split('\n').map(visibleText).join('\n');
}

/**
 * JSON with every hidden character written as a `\uXXXX` escape (JSON.stringify leaves C1, bidi and format
 * characters raw): still valid JSON that parses back to the same value, and safe to `cat` to a terminal.
 */
export function visibleJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, null, indent).replace(HIDDEN_ALL, (char) => {
    // JSON.stringify escapes C0 inside strings itself; a raw one is the indentation's line break.
    if (char < ' ') return char;
    let out = '';
    for (let i = 0; i < char.length; i++) out += `\\u${hex(char.charCodeAt(i), 4)}`;
    return out;
  });
}
