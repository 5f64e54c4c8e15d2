// "Did you mean": the closest candidate to a misspelt word by Damerau–Levenshtein distance
// (optimal string alignment: insert, delete, substitute, swap two neighbours), close enough
// meaning at most 2 edits or at most a third of the word's length, whichever allows more.

/** Edit distance counting an adjacent transposition as one edit. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  // Three rolling rows suffice: the transposition step looks two rows back.
  let prev2: number[] = new Array<number>(cols).fill(0);
  let prev: number[] = Array.from({ length: cols }, (_, j) => j);
  for (let i = 1; i < rows; i += 1) {
    const cur: number[] = new Array<number>(cols).fill(0);
    cur[0] = i;
    for (let j = 1; j < cols; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, (prev2[j - 2] ?? 0) + 1);
      cur[j] = best;
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[cols - 1] ?? 0;
}

/** The most edits a suggestion for `word` may be away from it. */
export function maxSuggestionDistance(word: string): number {
  return Math.max(2, Math.floor(word.length / 3));
}

/**
 * The candidate closest to `word`, if it is close enough; ties go to the earliest candidate.
 * Undefined when nothing is close (or there are no candidates).
 */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = maxSuggestionDistance(word);
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    // Length difference is a lower bound on the distance: skip hopeless candidates cheaply.
    if (Math.abs(candidate.length - word.length) > limit) continue;
    const d = editDistance(word, candidate);
    if (d <= limit && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
