/**
 * The two kinds of failure, for every layer and target (one class each, so `instanceof` works
 * whichever module threw).
 */

/**
 * A mistake in what the user asked for (a file, a flag, a data set): the CLI prints the message
 * alone and exits 1. Anything else that escapes is a bug and keeps its stack.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
}

/**
 * A broken internal invariant: a bug in skipgraph, never a user error (for example a
 * disagreement between the compiler's graph and a model a target built from it). The CLI prints
 * "internal error, please report" and exits 70.
 */
export class InternalError extends Error {
  override readonly name = 'InternalError';
}
