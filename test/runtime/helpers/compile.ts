import { compileFile, compileSource, type CompiledGraph } from '../../../src/compiler/index.js';

function unwrap(r: { graph?: CompiledGraph; diagnostics: { message: string }[] }, what: string): CompiledGraph {
  if (r.graph === undefined) throw new Error(`${what} did not compile: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return r.graph;
}

/** Compiles YAML text; throws with the diagnostics when it does not compile. */
export function compileYaml(text: string, sets: string[] = []): CompiledGraph {
  return unwrap(compileSource(text, { file: 'test.yaml', sets }), 'the test YAML');
}

export function compileArchitecture(path: string, sets: string[] = []): CompiledGraph {
  return unwrap(compileFile(path, { sets }), path);
}

/** A small valid architecture with the given stem, stages and head (YAML list bodies). */
export function tinyArch(p: { input?: string; stem?: string; stages?: string; head?: string; shortcut?: string; extra?: string } = {}): string {
  return [
    'name: tiny',
    `input: ${p.input ?? '{ height: 9, width: 9, channels: 3 }'}`,
    'classes: 5',
    `shortcut: ${p.shortcut ?? 'projection'}`,
    'stem:',
    p.stem ?? '  - { op: conv, filters: 4, kernel: 3 }',
    'stages:',
    p.stages ?? '  - { block: basic, channels: 4, blocks: 1 }',
    'head:',
    p.head ?? '  - { op: global_avg_pool }\n  - { op: dense, units: $classes }',
    p.extra ?? '',
  ].join('\n');
}
