import type { CompiledGraph } from '../../compiler/types.js';
import { UserError } from '../../errors/index.js';
import { fileSystemMessage } from '../../io/out_dir.js';
import { InputError } from '../io.js';

/** Refuses a saved model that lacks a layer of the compiled graph (a model of another architecture). */
export function requireLayers(model: { layers: { name: string }[] }, graph: CompiledGraph, dir: string): void {
  const names = new Set(model.layers.map((l) => l.name));
  const missing = graph.nodes.filter((n) => n.op !== 'input' && !names.has(n.id)).map((n) => n.id);
  if (missing.length > 0) {
    throw new InputError(`the model in ${dir} is not ${graph.name}: it has no layer ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? `, ... (${missing.length} in all)` : ''}`);
  }
}

/**
 * Runs `body`, which reads the saved model in `dir`, and turns what goes wrong into an input error:
 * skipgraph's user errors keep their message, anything else from TF.js becomes "cannot read".
 */
export async function readingSavedModel<T>(dir: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof UserError) throw new InputError(e.message);
    if (e instanceof InputError) throw e;
    const fs = fileSystemMessage(e);
    if (fs !== undefined) throw new InputError(fs);
    throw new InputError(`cannot read the model in ${dir}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** Runs `body`; skipgraph's user errors and file-system errors (ENOSPC, EACCES, ...) become input errors (exit 1). */
export function userInput<T>(body: () => T): T {
  try {
    return body();
  } catch (e) {
    throw asInputError(e);
  }
}

export async function userInputAsync<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (e) {
    throw asInputError(e);
  }
}

function asInputError(e: unknown): unknown {
  if (e instanceof UserError) return new InputError(e.message);
  const fs = fileSystemMessage(e);
  return fs === undefined ? e : new InputError(fs);
}
