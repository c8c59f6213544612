import { isUtf8 } from 'node:buffer';

/**
 * Names are bytes: valid UTF-8 decodes as usual and each byte that is not part of valid UTF-8 becomes the
 * lone surrogate U+DC00+byte (Python's `surrogateescape`). Valid UTF-8 never decodes to a lone surrogate,
 * so this is a bijection between byte strings and such JS strings: a decoded name is an exact identity.
 */
export function decodeBytes(buf: Uint8Array): string {
  if (isUtf8(buf)) return Buffer.from(buf.buffer, buf.byteOffset, buf.length).toString('utf8');
  let out = '';
  let i = 0;
  while (i < buf.length) {
    const length = sequenceLength(buf, i);
    if (length === 0) {
      out += String.fromCharCode(0xdc00 + (buf[i] as number));
      i++;
    } else {
      out += Buffer.from(buf.buffer, buf.byteOffset + i, length).toString('utf8');
      i += length;
    }
  }
  return out;
}

/** The inverse of {@link decodeBytes}; any other lone surrogate encodes as U+FFFD, as Buffer.from does. */
export function encodeBytes(text: string): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xdc80 && unit <= 0xdcff && !isPairedLow(text, i)) {
      parts.push(Buffer.from(text.slice(start, i), 'utf8'), Buffer.of(unit - 0xdc00));
      start = i + 1;
    }
  }
  parts.push(Buffer.from(text.slice(start), 'utf8'));
  return Buffer.concat(parts);
}

function isPairedLow(text: string, i: number): boolean {
  const previous = i > 0 ? text.charCodeAt(i - 1) : 0;
  return previous >= 0xd800 && previous <= 0xdbff;
}

/** Bytes of the well-formed UTF-8 sequence at `i` (Unicode table 3-7), or 0 when there is none. */
function sequenceLength(buf: Uint8Array, i: number): number {
  const lead = buf[i] as number;
  if (lead < 0x80) return 1;
  let length: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) length = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead === 0xe0) low = 0xa0;
    if (lead === 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead === 0xf0) low = 0x90;
    if (lead === 0xf4) high = 0x8f;
  } else return 0;
  if (i + length > buf.length) return 0;
  const second = buf[i + 1] as number;
  if (second < low || second > high) return 0;
  for (let k = 2; k < length; k++) {
    const next = buf[i + k] as number;
    if (next < 0x80 || next > 0xbf) return 0;
  }
  return length;
}
