/**
 * The one door to TF.js for everything outside this target (the CLI, the `skipgraph/runtime`
 * entry): TF.js is an optional peer of skipgraph, so the runtime is imported on demand, and a
 * missing package becomes its install line (src/errors/optional.ts).
 */
import { importOptional } from '../../errors/optional.js';

export type Runtime = typeof import('./index.js');

/** The TF.js runtime (this target's index), or a UserError naming the install line. */
export function loadRuntime(forWhat = 'this command'): Promise<Runtime> {
  return importOptional(() => import('./index.js'), forWhat);
}
