import { distance } from "fastest-levenshtein";

/**
 * The candidate the user most likely meant, or undefined when none is close. A candidate that
 * contains what was typed wins ("ws-example-02" → "ws-example-02-parallel-execution"); otherwise
 * the edit distance must be small relative to the word, so "foo" never suggests "depends_on".
 */
export function nearest(typed: string, candidates: Iterable<string>): string | undefined {
  const lower = typed.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of candidates) {
    const c = candidate.toLowerCase();
    if (typed.length >= 3 && (c.startsWith(lower) || c.includes(lower))) {
      // Prefer the shortest containing candidate: it adds the least to what was typed.
      const score = -1000 + c.length;
      if (score < bestScore) [best, bestScore] = [candidate, score];
      continue;
    }
    const d = distance(lower, c);
    // Two edits cover a swapped pair of letters ("stpes"); never suggest a word that shares nothing.
    if (d <= Math.max(2, Math.floor(Math.max(typed.length, candidate.length) / 3)) && d < typed.length && d < bestScore) {
      [best, bestScore] = [candidate, d];
    }
  }
  return best;
}

/** `did you mean "x"?`, or undefined. */
export function didYouMean(typed: string, candidates: Iterable<string>): string | undefined {
  const match = nearest(typed, candidates);
  return match === undefined ? undefined : `did you mean "${match}"?`;
}

/** `did you mean "x"?` for a close name, else the first few known names (or `empty` when none). */
export function suggestOrList(typed: string, known: readonly string[], empty: string): string {
  const close = didYouMean(typed, known);
  if (close !== undefined) return close;
  if (known.length === 0) return empty;
  const shown = known.slice(0, 5).map((id) => `"${id}"`);
  return `known ids: ${shown.join(", ")}${known.length > 5 ? ", …" : ""}`;
}
