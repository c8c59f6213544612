import { isUtf8 } from 'node:buffer';

/**
 * Names are bytes. A byte string becomes a JS string as Python's `surrogateescape` makes it: valid UTF-8 is
 * decoded, every other byte becomes the lone surrogate U+DC00+byte. Valid UTF-8 never decodes to a lone
 * surrogate, so this is a bijection: one exact, sortable identity for any name, and JSON keeps it
 * (`JSON.stringify` writes `\udcff`).
 */
export function decodeBytes(bytes: Buffer): string {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  let text = '';
  let start = 0;
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceLength(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    text += bytes.toString('utf8', start, i) + String.fromCharCode(0xdc00 + (bytes[i] as number));
    i++;
    start = i;
  }
  return text + bytes.toString('utf8', start, i);
}

/** The bytes `decodeBytes` read `text` from; refuses a lone surrogate it could not have made. */
export function encodeBytes(text: string): Buffer {
  if (!/[\ud800-\udfff]/.test(text)) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0xd800 || unit > 0xdfff) continue;
    const next = text.charCodeAt(i + 1);
    if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      i++;
      continue;
    }
    if (unit < 0xdc80 || unit > 0xdcff) {
      throw new Error(
        `a name holds the lone surrogate U+${unit.toString(16).toUpperCase()}, which no byte makes`,
      );
    }
    parts.push(Buffer.from(text.slice(start, i), 'utf8'), Buffer.of(unit - 0xdc00));
    start = i + 1;
  }
  parts.push(Buffer.from(text.slice(start), 'utf8'));
  return Buffer.concat(parts);
}

/** Bytes of the valid UTF-8 sequence at `i` (shortest form, no surrogates, at most U+10FFFF), or 0. */
function sequenceLength(bytes: Buffer, i: number): number {
  const lead = bytes[i] as number;
  if (lead < 0x80) return 1;
  const continuation = (at: number, low = 0x80, high = 0xbf) => {
    const byte = bytes[at];
    return byte !== undefined && byte >= low && byte <= high;
  };
  if (lead >= 0xc2 && lead <= 0xdf) return continuation(i + 1) ? 2 : 0;
  if (lead >= 0xe0 && lead <= 0xef) {
    const low = lead === 0xe0 ? 0xa0 : 0x80;
    const high = lead === 0xed ? 0x9f : 0xbf;
    return continuation(i + 1, low, high) && continuation(i + 2) ? 3 : 0;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    const low = lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xf4 ? 0x8f : 0xbf;
    return continuation(i + 1, low, high) && continuation(i + 2) && continuation(i + 3) ? 4 : 0;
  }
  return 0;
}
