import { isUtf8 } from 'node:buffer';

// Names are bytes: valid UTF-8 decodes as UTF-8, every other byte becomes the lone surrogate U+DC00+byte
// (Python's surrogateescape), a bijection. The tar folder holds the tool's own pair; this is the tests'
// reading of a disk or an oracle's bytes, kept apart so a bug in one cannot hide in the other.

export function decodeBytes(bytes: Buffer): string {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  let text = '';
  let run = 0;
  for (let i = 0; i < bytes.length; ) {
    const length = validSequence(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    text += bytes.toString('utf8', run, i) + String.fromCharCode(0xdc00 + (bytes[i] as number));
    i++;
    run = i;
  }
  return text + bytes.toString('utf8', run);
}

export function encodeBytes(text: string): Buffer {
  const parts: Buffer[] = [];
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xdc80 && unit <= 0xdcff && !isLowOfPair(text, i)) {
      parts.push(Buffer.from(text.slice(run, i), 'utf8'), Buffer.of(unit - 0xdc00));
      run = i + 1;
    }
  }
  parts.push(Buffer.from(text.slice(run), 'utf8'));
  return Buffer.concat(parts);
}

function isLowOfPair(text: string, i: number): boolean {
  const before = text.charCodeAt(i - 1);
  return i > 0 && before >= 0xd800 && before <= 0xdbff;
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0: whether a 1-4 byte prefix is valid is what isUtf8 says. */
function validSequence(bytes: Buffer, i: number): number {
  for (let length = 1; length <= 4 && i + length <= bytes.length; length++) {
    if (isUtf8(bytes.subarray(i, i + length))) return length;
  }
  return 0;
}
