import { compileFile, compileSource, type CompiledGraph } from '../../../../src/compiler/files.js';
import { arch, type ArchParts } from '../../../helpers/yaml.js';

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

/** A small valid architecture (9x9x3, 4 channels, 5 classes) with the given parts replaced. */
export function tinyArch(p: ArchParts = {}): string {
  return arch({
    input: '{ height: 9, width: 9, channels: 3 }',
    classes: 5,
    stem: '  - { op: conv, filters: 4, kernel: 3 }',
    stages: '  - { block: basic, channels: 4, blocks: 1 }',
    ...p,
  });
}
