// "did you mean ...?" for misspelt keys.

import { distance } from "fastest-levenshtein";

/** The known word closest to `word`, if it is close enough to be a likely typo. */
export function closestWord(word: string, known: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  if (best === undefined) return undefined;
  // `prepare_each` -> `prepare-each`, `kil-timeout` -> `kill-timeout`, `preapre` -> `prepare`.
  const allowed = Math.max(2, Math.floor(word.length / 3));
  return bestDistance <= allowed ? best : undefined;
}

/** The sentence tail for an unknown key: a suggestion, or the list of keys allowed. */
export function unknownKeyHint(word: string, known: readonly string[]): string {
  const guess = closestWord(word, known);
  if (guess) return `did you mean '${guess}'?`;
  return known.length > 0 ? `allowed here: ${[...known].sort().join(", ")}` : "no keys are allowed here";
}
