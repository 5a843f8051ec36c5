/**
 * The Python every emitted module shares, read from python/skipgraph_torch_helpers.py (shipped in
 * the package): the imports that open the module, and the helper classes pasted where used.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TorchEmitError } from './error.js';
import type { HelperClass } from './leaves.js';
import { scanPython, topLevelStatements } from './python_source.js';

/** python/ at the package root (three levels above src/targets/torch and dist/targets/torch). */
export const HELPERS_FILE = fileURLToPath(new URL('../../../python/skipgraph_torch_helpers.py', import.meta.url));

export interface Helpers {
  /** The import statements, as the file writes them (blank lines between included). */
  imports: string;
  /** Each helper class's source, in the file's order. */
  classes: ReadonlyMap<HelperClass, string>;
  /** Every name the file binds or reads: an emitted class never takes one. */
  names: ReadonlySet<string>;
}

const HELPER_CLASSES: readonly HelperClass[] = ['Subsample', 'ChannelPad', 'DropPath', 'Container'];

/** The helpers file's parts; an internal error where it lacks one (a broken install). */
export function parseHelpers(source: string): Helpers {
  const statements = topLevelStatements(source);
  const imports = statements.filter((s) => s.kind === 'import');
  if (imports.length === 0) throw new TorchEmitError(`internal: ${HELPERS_FILE} has no imports`);
  const lines = source.split('\n');
  const lastImport = imports[imports.length - 1];
  const importText = lines.slice(imports[0].line, lastImport.line + lastImport.text.split('\n').length).join('\n');
  const classes = new Map<HelperClass, string>();
  for (const s of statements) {
    const name = HELPER_CLASSES.find((h) => s.kind === 'class' && s.names[0] === h);
    if (name) classes.set(name, s.text);
  }
  for (const h of HELPER_CLASSES) if (!classes.has(h)) throw new TorchEmitError(`internal: ${HELPERS_FILE} has no class ${h}`);
  const names = scanPython(source).names;
  for (const s of statements) for (const n of s.names) names.add(n);
  return { imports: importText, classes, names };
}

let cached: Helpers | undefined;

export function helpers(): Helpers {
  cached ??= parseHelpers(readFileSync(HELPERS_FILE, 'utf8'));
  return cached;
}
