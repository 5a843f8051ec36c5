/**
 * A mistake in what the user asked for (a file, a flag, a data set): the CLI prints the message
 * alone and exits 1. Anything else that escapes is a bug and keeps its stack.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
}

/** A disagreement between the compiler's graph and the model TF.js built from it: a skipgraph bug. */
export class InternalError extends Error {
  override readonly name = 'InternalError';
}
