/**
 * The import rules of the layout (README "Layout"): imports run one way, no target imports
 * another, TF.js stays inside its target, and the parser and compiler reach Node through one file.
 * Read from the sources themselves, so a new file or folder is checked the day it appears.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

/** Every folder ("area") of src and the areas it may import, itself included. */
const BELOW_TARGETS = ['errors', 'random', 'io', 'formats', 'data', 'training'];
const ALLOWED: Record<string, readonly string[]> = {
  errors: ['errors'],
  random: ['random', 'errors'],
  io: ['io', 'errors'],
  formats: ['formats', 'io', 'errors'],
  data: ['data', 'formats', 'io', 'random', 'errors'],
  training: ['training', 'data', 'formats', 'io', 'random', 'errors'],
  parser: ['parser', 'io', 'errors'],
  compiler: ['compiler', 'parser', 'random', 'errors'],
  'targets/tfjs': ['targets/tfjs', 'compiler', 'parser', ...BELOW_TARGETS],
  'targets/torch': ['targets/torch', 'compiler', 'parser', ...BELOW_TARGETS],
  'targets/onnx': ['targets/onnx', 'compiler', 'parser', ...BELOW_TARGETS],
  cli: ['cli', 'targets/tfjs', 'targets/torch', 'targets/onnx', 'compiler', 'parser', ...BELOW_TARGETS],
  '.': ['compiler', 'parser'],
};

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : /\.(ts|js)$/.test(name) && !name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The area of a file under src: 'compiler', 'targets/onnx', or '.' for src/index.ts. */
function areaOf(file: string): string {
  const parts = relative(SRC, file).split('/');
  if (parts.length === 1) return '.';
  return parts[0] === 'targets' ? `targets/${parts[1]}` : parts[0];
}

interface Import {
  spec: string;
  /** `import type` / `export type`: erased at build time, so it loads nothing. */
  typeOnly: boolean;
}

/** Static and dynamic imports and re-exports of a source file. */
function importsOf(text: string): Import[] {
  const out: Import[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]/gm)) out.push({ spec: m[3], typeOnly: Boolean(m[2]) });
  for (const m of text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) out.push({ spec: m[1], typeOnly: false });
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push({ spec: m[1], typeOnly: false });
  return out;
}

const FILES = walk(SRC).filter((f) => !f.includes('/generated/'));

describe('layout: imports run one way', () => {
  it('knows every folder of src (a new folder must be given its place in the rules)', () => {
    const areas = new Set(FILES.map(areaOf));
    expect([...areas].filter((a) => !(a in ALLOWED))).toEqual([]);
  });

  it('each folder imports only the folders below it, and no target imports another', () => {
    const bad: string[] = [];
    for (const file of FILES) {
      const area = areaOf(file);
      for (const { spec } of importsOf(readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue;
        const target = resolve(dirname(file), spec);
        if (!target.startsWith(SRC + '/')) {
          bad.push(`${relative(ROOT, file)} imports ${spec} (outside src)`);
          continue;
        }
        const to = areaOf(target);
        if (!ALLOWED[area]?.includes(to)) bad.push(`${relative(ROOT, file)} (${area}) imports ${spec} (${to})`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('TF.js is loaded by the tfjs target only (the CLI may name its types)', () => {
    const bad = FILES.flatMap((file) =>
      importsOf(readFileSync(file, 'utf8'))
        .filter((i) => i.spec.startsWith('@tensorflow/') && areaOf(file) !== 'targets/tfjs' && !(areaOf(file) === 'cli' && i.typeOnly))
        .map((i) => `${relative(ROOT, file)} imports ${i.spec}`),
    );
    expect(bad).toEqual([]);
  });

  it('the parser reaches Node through one file, the compiler not at all', () => {
    const nodeUsers = (area: string) =>
      FILES.filter((f) => areaOf(f) === area && importsOf(readFileSync(f, 'utf8')).some((i) => i.spec.startsWith('node:') && !i.typeOnly)).map((f) => relative(ROOT, f));
    expect(nodeUsers('parser').length, `parser files importing node:*: ${nodeUsers('parser').join(', ')}`).toBeLessThanOrEqual(1);
    expect(nodeUsers('compiler')).toEqual([]);
  });

  it('the pure entries (parser/index.ts, compiler/index.ts) reach no node:* module, however deep', () => {
    // What the playground bundles for the browser: every module they load, followed through
    // static imports and re-exports, must be free of node:* (the Node entries are parser/files.ts
    // and compiler/files.ts). Type-only imports load nothing.
    const reached = (entry: string): { files: Set<string>; node: string[] } => {
      const files = new Set<string>();
      const node: string[] = [];
      const visit = (file: string): void => {
        if (files.has(file)) return;
        files.add(file);
        for (const { spec, typeOnly } of importsOf(readFileSync(file, 'utf8'))) {
          if (typeOnly) continue;
          if (spec.startsWith('node:')) node.push(`${relative(ROOT, file)} imports ${spec}`);
          else if (spec.startsWith('.') && /\.js$/.test(spec)) {
            const js = resolve(dirname(file), spec);
            const ts = js.replace(/\.js$/, '.ts');
            visit(existsSync(ts) ? ts : js); // the generated validator is .js
          }
        }
      };
      visit(join(SRC, entry));
      return { files, node };
    };
    for (const entry of ['parser/index.ts', 'compiler/index.ts']) {
      const { files, node } = reached(entry);
      expect(node, entry).toEqual([]);
      expect([...files].map((f) => relative(ROOT, f)), entry).not.toContain('src/parser/files.ts');
    }
    // Not vacuous: the Node entry does reach files.ts and node:fs.
    expect(reached('compiler/files.ts').node.some((l) => l.includes('node:fs'))).toBe(true);
  });

  it('the layer below the targets knows no target and no TF.js', () => {
    const bad = FILES.filter((f) => BELOW_TARGETS.includes(areaOf(f)))
      .flatMap((file) => importsOf(readFileSync(file, 'utf8')).map((i) => ({ file, spec: i.spec })))
      .filter(({ spec }) => spec.startsWith('@tensorflow/') || spec.includes('/targets/') || spec === 'onnxruntime-node' || spec === 'webgpu')
      .map(({ file, spec }) => `${relative(ROOT, file)} imports ${spec}`);
    expect(bad).toEqual([]);
  });

  it('planting a forbidden import is caught (the rules are not vacuous)', () => {
    // A torch file that imports the onnx target, and a compiler file that imports node:fs.
    const torchFile = join(SRC, 'targets/torch/planted.ts');
    const spec = '../onnx/index.js';
    expect(ALLOWED[areaOf(torchFile)]?.includes(areaOf(resolve(dirname(torchFile), spec)))).toBe(false);
    expect(importsOf("import { readFileSync } from 'node:fs';\nimport type { X } from 'node:path';")).toEqual([
      { spec: 'node:fs', typeOnly: false },
      { spec: 'node:path', typeOnly: true },
    ]);
    expect(importsOf("const m = await import('../../targets/tfjs/build.js');")).toEqual([{ spec: '../../targets/tfjs/build.js', typeOnly: false }]);
  });
});
