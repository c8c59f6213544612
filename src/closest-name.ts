/**
 * The known name a mistyped one most likely meant (an option, a local image): the nearest by edit distance
 * (a swap of two neighbours counts once), within one edit for short names and two for longer ones, or the
 * one it abbreviates.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  if (name.length === 0 || known.includes(name)) return undefined;
  let best: string | undefined;
  let bestDistance = name.length < 5 ? 2 : 3;
  for (const option of known) {
    const distance = editDistance(name, option);
    if (distance < bestDistance) {
      best = option;
      bestDistance = distance;
    }
  }
  if (best !== undefined) return best;
  const abbreviated = known.filter((option) => name.length >= 3 && option.startsWith(name));
  return abbreviated.length === 1 ? abbreviated[0] : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = rows[i] as number[];
      const above = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(
        (above[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (above[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = distance;
    }
  }
  return (rows[a.length] as number[])[b.length] as number;
}
