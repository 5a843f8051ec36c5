/**
 * `skipgraph export FILE --target torch`: the compiled graph as one readable PyTorch file
 * (docs/torch.md). Loads the compiler's PyTorch emitter only: no TF.js.
 */
import type { CompiledGraph } from '../../compiler/types.js';
import { planOutput, writeOutput } from '../../io/output_policy.js';
import { EXIT, InputError, shown, type Io } from '../io.js';
import { userInput } from './saved_model.js';

export interface ExportTorchFlags {
  out?: string;
  force?: boolean;
  /** The files the command reads (the architecture and its extends files): never written over. */
  inputs?: string[];
}

/** Writes (or, without --out, prints) the module; returns the exit code. */
export async function exportTorchCommand(graph: CompiledGraph, file: string, flags: ExportTorchFlags, io: Io, version: string): Promise<number> {
  // --out is checked before any work (the output policy: src/io/output_policy.ts).
  const planned = flags.out === undefined ? undefined : userInput(() => planOutput({ path: flags.out!, flag: '--out', kind: 'torch-module', force: flags.force, inputs: flags.inputs }));
  const { emitTorch, TorchEmitError } = await import('../../targets/torch/index.js');
  let text: string;
  try {
    text = emitTorch(graph, { source: file, version });
  } catch (e) {
    // A refusal at the layer that caused it prints as the compiler's errors do; nothing is written.
    const located = e instanceof TorchEmitError ? e.located() : undefined;
    if (located !== undefined) {
      io.err(shown(located));
      return EXIT.input;
    }
    if (e instanceof TorchEmitError && !e.message.startsWith('internal')) throw new InputError(`${file}: ${e.message}`);
    throw e;
  }
  if (planned === undefined) {
    io.out(text);
    return EXIT.ok;
  }
  userInput(() => writeOutput(planned, text));
  io.err(`wrote ${shown(flags.out!)}: ${graph.name} as a PyTorch module (${graph.totals.params.toLocaleString('en-US')} parameters and buffers); build it with build_model()`);
  return EXIT.ok;
}
