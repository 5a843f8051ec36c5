import { join } from 'node:path';
import { compileFile, compileSource, type CompiledGraph } from '../../../src/compiler/files.js';
import { requireClassifier } from '../../../src/compiler/index.js';

export const root = new URL('../../../', import.meta.url).pathname;

const cache = new Map<string, CompiledGraph>();

/** A shipped architecture, compiled once per test file. */
export function shipped(name: string): CompiledGraph {
  if (!cache.has(name)) {
    const r = compileFile(join(root, 'architectures', `${name}.yaml`));
    if (!r.graph) throw new Error(`${name} did not compile: ${r.diagnostics.map((d) => d.message).join('; ')}`);
    cache.set(name, r.graph);
  }
  return cache.get(name)!;
}

export function compiled(yaml: string, file = 'test.yaml'): CompiledGraph {
  const r = compileSource(yaml, { file });
  if (!r.graph) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
  return r.graph;
}

/** Markup and script that must come out as text wherever a YAML string is printed. */
export const EVIL = `"'><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">&amp;`;

/**
 * The graph with every node id, stage name and the network name replaced by hostile text. The
 * schema does not let such names through the parser, so this builds them behind its back: the
 * printers must escape regardless of what the parser allows.
 */
export function hostile(g: CompiledGraph): CompiledGraph {
  const rename = (id: string) => `${id}${EVIL}`;
  const stage = (s: string | undefined) => (s === undefined ? s : `${s}${EVIL}`);
  const c = requireClassifier(g, 'hostile');
  return {
    ...c,
    name: `net${EVIL}`,
    nodes: g.nodes.map((n) => ({ ...n, id: rename(n.id), inputs: n.inputs.map(rename), stage: stage(n.stage) })),
    output: rename(c.output),
    stages: g.stages.map((s) => ({ ...s, name: stage(s.name)! })),
  };
}
