const UNITS = ['K', 'M', 'G', 'T', 'P', 'E'];

/**
 * Bytes as `du -h` prints them: powers of 1024, rounded up, one decimal below 10 (4.0K, 3.8M, 312K),
 * plain bytes below 1 KiB.
 */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return String(bytes);
  let divisor = 1;
  for (const unit of UNITS) {
    divisor *= 1024;
    // Dividing by a power of two is exact, so rounding up never drifts.
    const tenths = Math.ceil((bytes * 10) / divisor);
    if (tenths < 100) return `${(tenths / 10).toFixed(1)}${unit}`;
    const whole = Math.ceil(bytes / divisor);
    if (whole < 1024) return `${whole}${unit}`;
  }
  return `${Math.ceil(bytes / divisor)}E`;
}

/** A signed size for deltas: +1.2M, -4.0K, 0. */
export function signedSize(bytes: number): string {
  if (bytes === 0) return '0';
  return `${bytes > 0 ? '+' : '-'}${humanSize(Math.abs(bytes))}`;
}
