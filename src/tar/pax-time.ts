import { parsePaxTime } from './tar-numbers.js';

/** A PAX time (`SECONDS[.FRACTION]`, already accepted by the reader) in seconds, fractions kept. */
export function paxTime(value: string): number {
  const time = parsePaxTime(value, 'mtime');
  return Number(time.seconds) + time.nanos / 1e9;
}
