/**
 * Weights that are not numbers: NaN or ±Infinity anywhere, or a negative running variance
 * (sqrt(var + eps) is then NaN). Imported, folded or exported silently they give a model that
 * answers NaN; so they are an error unless the user says otherwise (--allow-nonfinite).
 */
import { UserError } from '../errors/index.js';

/** What is wrong with one tensor's values, or undefined when nothing is. */
export function valueProblem(data: ArrayLike<number>, isVariance: boolean): string | undefined {
  let nan = 0;
  let inf = 0;
  let negative = 0;
  let first = -1;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v !== v) nan++;
    else if (v === Infinity || v === -Infinity) inf++;
    else if (isVariance && v < 0) negative++;
    else continue;
    if (first < 0) first = i;
  }
  if (first < 0) return undefined;
  const parts = [nan > 0 ? `${nan} NaN` : '', inf > 0 ? `${inf} infinite` : '', negative > 0 ? `${negative} negative (a variance cannot be)` : ''].filter(Boolean);
  return `${parts.join(', ')} of ${data.length} values (first at index ${first})`;
}

/** Tensor name -> problem; at most this many are listed in a message. */
export const MAX_LISTED = 20;

/** NaN/Inf weights or a negative variance, listed by tensor. */
export class NonFiniteError extends UserError {
  constructor(
    readonly source: string,
    readonly problems: [string, string][],
  ) {
    const listed = problems.slice(0, MAX_LISTED).map(([n, p]) => `    ${n}: ${p}`);
    if (problems.length > MAX_LISTED) listed.push(`    ... and ${problems.length - MAX_LISTED} more`);
    super(
      `${source} holds weights that are not numbers (${problems.length} tensor${problems.length === 1 ? '' : 's'}):\n${listed.join('\n')}\n` +
        `  the model would compute NaN; add --allow-nonfinite to accept them anyway`,
    );
  }
}

/** Collects problems tensor by tensor; `throwIfAny` raises one NonFiniteError listing them all. */
export class ValueCheck {
  readonly problems: [string, string][] = [];
  constructor(readonly source: string) {}
  add(name: string, data: ArrayLike<number>, isVariance: boolean): void {
    const p = valueProblem(data, isVariance);
    if (p !== undefined) this.problems.push([name, p]);
  }
  throwIfAny(): void {
    if (this.problems.length > 0) throw new NonFiniteError(this.source, this.problems);
  }
}
