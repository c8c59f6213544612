import { TarFormatError } from './tar-error.js';

/** A time as Go keeps it: whole seconds (any int64) and nanoseconds in [0, 1e9). */
export interface TarTime {
  readonly seconds: bigint;
  readonly nanos: number;
}

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

/**
 * A numeric header field as Go's parser.parseNumeric reads it: base-256 (two's complement) when the first
 * byte's top bit is set, at most 63 bits of magnitude; else octal. Exact, whatever the width.
 */
export function parseNumeric(field: Buffer, what: string): bigint {
  const value = tryNumeric(field);
  if (value === undefined) throw new TarFormatError(`the ${what} field ${show(field)} is not a number`);
  return value;
}

/** parseNumeric, or undefined where Go's parser would record an error. */
export function tryNumeric(field: Buffer): bigint | undefined {
  const first = field[0] ?? 0;
  if ((first & 0x80) === 0) return tryOctal(field);
  const invert = (first & 0x40) !== 0 ? 0xff : 0;
  let value = 0n;
  for (const [i, byte] of field.entries()) {
    let digit = byte ^ invert;
    if (i === 0) digit &= 0x7f;
    if (value >> 56n > 0n) return undefined;
    value = (value << 8n) | BigInt(digit);
  }
  if (value >> 63n > 0n) return undefined;
  return invert ? -value - 1n : value;
}

/** Octal between NULs and spaces, read up to the first NUL left inside, as Go's parseOctal. */
export function tryOctal(field: Buffer): bigint | undefined {
  let start = 0;
  let end = field.length;
  const pad = (byte: number | undefined) => byte === 0 || byte === 0x20;
  while (start < end && pad(field[start])) start++;
  while (end > start && pad(field[end - 1])) end--;
  if (start === end) return 0n;
  const nul = field.indexOf(0, start);
  const digits = field.toString('latin1', start, nul >= 0 && nul < end ? nul : end);
  if (!/^[0-7]+$/.test(digits)) return undefined;
  const value = BigInt(`0o${digits}`);
  // strconv.ParseUint(s, 8, 64), then int64(x).
  return value >> 64n > 0n ? undefined : BigInt.asIntN(64, value);
}

/** A decimal PAX number as strconv.ParseInt(s, 10, 64): optional sign, digits, int64 range. */
export function parseDecimal(text: string, what: string): bigint {
  const value = /^[+-]?[0-9]+$/.test(text) ? BigInt(text) : undefined;
  if (value === undefined || value > INT64_MAX || value < INT64_MIN) {
    throw new TarFormatError(`the PAX ${what} ${JSON.stringify(text)} is not a 64-bit number`);
  }
  return value;
}

/** A PAX time (`SECONDS[.FRACTION]`) as Go's parsePAXTime: int64 seconds, nanoseconds cut at nine digits. */
export function parsePaxTime(text: string, what: string): TarTime {
  const dot = text.indexOf('.');
  const secondsText = dot < 0 ? text : text.slice(0, dot);
  const fraction = dot < 0 ? '' : text.slice(dot + 1);
  const seconds = parseDecimal(secondsText, what);
  if (fraction === '') return { seconds, nanos: 0 };
  if (!/^[0-9]*$/.test(fraction))
    throw new TarFormatError(`the PAX ${what} ${JSON.stringify(text)} is malformed`);
  const nanos = Number(fraction.padEnd(9, '0').slice(0, 9));
  return unixTime(seconds, secondsText.startsWith('-') ? -nanos : nanos);
}

/** Go's time.Unix(sec, nsec): nanoseconds brought into [0, 1e9), seconds wrapping as an int64 does. */
export function unixTime(seconds: bigint, nanos: number): TarTime {
  if (nanos >= 0) return { seconds, nanos };
  return { seconds: BigInt.asIntN(64, seconds - 1n), nanos: nanos + 1e9 };
}

function show(field: Buffer): string {
  return JSON.stringify(field.toString('latin1')).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16)}`,
  );
}
