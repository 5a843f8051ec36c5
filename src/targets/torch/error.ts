import { UserError } from '../../errors/index.js';
import { formatLoc, type Loc } from '../../parser/location.js';

/** Codes of the refusals a user can fix (stable, as the compiler's diagnostic codes). */
export type TorchEmitCode =
  | 'torch-name'; // a node name PyTorch cannot hold as a module or parameter attribute

/** Where a refusal points in the YAML, its code, and what to do. */
export interface TorchEmitPlace {
  code: TorchEmitCode;
  loc: Loc;
  hint: string;
}

/**
 * The torch target's one error: a graph PyTorch cannot hold as modules (a message for the user,
 * located at the layer that caused it), or a broken invariant ("internal: ...", no place).
 */
export class TorchEmitError extends Error {
  constructor(
    message: string,
    readonly at?: TorchEmitPlace,
  ) {
    super(message);
    this.name = 'TorchEmitError';
  }

  /** One line, as the compiler's diagnostics start: `file:line:col: error[code]: message; hint`. */
  located(): string | undefined {
    return this.at && `${formatLoc(this.at.loc)}: error[${this.at.code}]: ${this.message}; ${this.at.hint}`;
  }
}

/** The emitter's result, or its located refusal as the UserError a command prints on one line (exit 1). */
export function emitted<T>(emit: () => T): T {
  try {
    return emit();
  } catch (e) {
    const located = e instanceof TorchEmitError ? e.located() : undefined;
    throw located === undefined ? e : new UserError(located);
  }
}
