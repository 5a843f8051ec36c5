import { distance } from 'fastest-levenshtein';

/**
 * The closest candidate to a misspelt name, or undefined when nothing is close enough to be a
 * plausible typo (at most a third of the name's letters changed, and never more than 3).
 */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  const limit = Math.min(3, Math.max(1, Math.floor(name.length / 3)));
  for (const c of candidates) {
    const d = distance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDist) {
      best = c;
      bestDist = d;
    }
  }
  return bestDist <= limit ? best : undefined;
}

/** `Did you mean "bottleneck"?` or undefined. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  const c = closest(name, candidates);
  return c === undefined ? undefined : `Did you mean "${c}"?`;
}
