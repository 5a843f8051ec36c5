import type { SweepRow } from '../../compiler/index.js';
import { selectBackend } from '../../targets/tfjs/backend.js';
import { timeForward } from '../../targets/tfjs/measure.js';
import { UserError } from '../../errors/index.js';
import { InputError, type Io } from '../io.js';

/**
 * `sweep --measure`: the median of 5 timed forward passes (batch 1, after one warm-up) of each
 * kept variant on the chosen backend. Loaded only when asked, so a plain sweep never loads TF.js.
 */
export async function measureForward(rows: SweepRow[], times: (number | undefined)[], backend: string | undefined, io: Io): Promise<void> {
  let chosen;
  try {
    chosen = await selectBackend({ force: backend });
  } catch (err) {
    if (err instanceof UserError) throw new InputError(err.message);
    throw err;
  }
  io.err(`measuring on ${chosen.choice}`);
  for (const [i, r] of rows.entries()) {
    if (r.status !== 'ok' || !r.graph) continue;
    times[i] = await timeForward(r.graph, 5);
  }
}
