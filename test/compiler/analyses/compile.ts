import { expect } from 'vitest';
import { compileSource, type CompiledGraph } from '../../../src/compiler/files.js';

/** An inline architecture compiled, with no error (the analyses' tests start from valid graphs). */
export function compileClean(text: string): CompiledGraph {
  const r = compileSource(text, { file: 't.yaml' });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.graph!;
}
