/**
 * Makes the pictures under docs/images/ with skipgraph itself: `npm run docs:images`.
 * test/docs/images.test.ts fails when a committed picture differs from what this makes now.
 *
 * It also reads the tutorial's snippets (docs/tutorial.md), for the pictures of its steps and for
 * test/docs/tutorial.test.ts: every ```yaml fence starts with a `# <file>.yaml` comment, the file
 * name the reader would save it as, and is compiled under that name.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileFile, compileSource, featureTable, formatExplain, formatSvg, formatTable, type Collapse, type CompiledGraph } from '../../src/compiler/files.js';
import { printCompileProblems } from '../../src/cli/io.js';
import { formatDiagnostics } from '../../src/parser/index.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TUTORIAL = join(ROOT, 'docs', 'tutorial.md');

export interface Fence {
  /** The info string after the opening backticks: `yaml`, `text table`, `ts`... */
  info: string;
  body: string;
  /** 1-based line of the opening fence in the Markdown file. */
  line: number;
  /** Lines between the opening and the closing fence. */
  bodyLines: number;
}

/** Every fenced code block of a Markdown text, in order. */
export function fences(md: string): Fence[] {
  const out: Fence[] = [];
  const lines = md.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(/^```(.*)$/);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]);
    if (i >= lines.length) throw new Error(`tutorial.md:${start + 1}: a fence is not closed`);
    out.push({ info: open[1].trim(), body: body.length ? body.join('\n') + '\n' : '', line: start + 1, bodyLines: body.length });
  }
  return out;
}

export interface Snippet {
  /** From the first line, `# step1-plain.yaml`. */
  file: string;
  yaml: string;
  line: number;
}

/** The ```yaml fences of the tutorial. */
export function tutorialSnippets(md = readFileSync(TUTORIAL, 'utf8')): Snippet[] {
  return fences(md)
    .filter((f) => f.info === 'yaml')
    .map((f) => {
      const file = f.body.match(/^# ([\w.-]+\.yaml)\n/)?.[1];
      if (!file) throw new Error(`tutorial.md:${f.line}: a yaml snippet must start with "# <file>.yaml"`);
      return { file, yaml: f.body, line: f.line };
    });
}

export function compileSnippet(s: Snippet) {
  return compileSource(s.yaml, { file: s.file });
}

/**
 * What the ```text fence after a yaml snippet shows; its info string names it:
 * - `text table`: `skipgraph compile <file>` (formatTable, no colour);
 * - `text explain`: the `--explain` part (formatExplain);
 * - `text error`: what `skipgraph compile FILE` prints for a snippet that must NOT compile (no colour):
 *   its diagnostics, the count line and the checks that had to wait (printCompileProblems);
 * - `text features`: a backbone's feature table, the part of `skipgraph compile <file>` after the nodes.
 */
export const OUTPUT_KINDS = ['table', 'explain', 'error', 'features'] as const;
export type OutputKind = (typeof OUTPUT_KINDS)[number];

export function snippetOutput(s: Snippet, kind: OutputKind): string {
  const r = compileSnippet(s);
  if (kind === 'error') {
    if (r.graph) throw new Error(`tutorial.md:${s.line}: ${s.file} compiles, but its output block says "text error"`);
    // What `skipgraph compile FILE` prints on stderr, count and skipped checks included.
    const err: string[] = [];
    printCompileProblems({ out: () => undefined, err: (t) => void err.push(t), color: false }, r);
    return err.join('\n');
  }
  if (!r.graph) throw new Error(`tutorial.md:${s.line}: ${s.file} does not compile:\n${formatDiagnostics(r.diagnostics, { sources: r.sources, color: false })}`);
  if (kind === 'features') {
    if (r.graph.kind !== 'backbone') throw new Error(`tutorial.md:${s.line}: ${s.file} is no backbone, but its output block says "text features"`);
    return featureTable(r.graph).join('\n');
  }
  return kind === 'table' ? formatTable(r.graph) : formatExplain(r.graph);
}

export interface Pair {
  snippet: Snippet;
  kind: OutputKind;
  /** The output fence as written. */
  output: Fence;
}

/** Each yaml snippet with the fence right after it, which must be `text table|explain|error`. */
export function snippetPairs(md = readFileSync(TUTORIAL, 'utf8')): Pair[] {
  const all = fences(md);
  const snippets = tutorialSnippets(md);
  return snippets.map((snippet) => {
    const next = all[all.findIndex((f) => f.line === snippet.line) + 1];
    const kind = next?.info.match(/^text (\w+)$/)?.[1] as OutputKind | undefined;
    if (!next || !kind || !OUTPUT_KINDS.includes(kind)) throw new Error(`tutorial.md:${snippet.line}: the fence after ${snippet.file} must be \`\`\`text table, \`\`\`text explain, \`\`\`text error or \`\`\`text features`);
    return { snippet, kind, output: next };
  });
}

/** Rewrites the output fences of docs/tutorial.md with what the snippets print now. */
export function refreshTutorial(): number {
  const md = readFileSync(TUTORIAL, 'utf8');
  const lines = md.split('\n');
  const pairs = snippetPairs(md);
  // From the end, so earlier line numbers stay valid.
  for (const p of [...pairs].reverse()) {
    lines.splice(p.output.line, p.output.bodyLines, ...snippetOutput(p.snippet, p.kind).split('\n'));
  }
  writeFileSync(TUTORIAL, lines.join('\n'));
  return pairs.length;
}

interface Picture {
  /** Under docs/images/. */
  out: string;
  /** A shipped architecture (architectures/<arch>.yaml) or a tutorial snippet's file. */
  arch?: string;
  snippet?: string;
  collapse?: Collapse;
}

/** The pictures: the README's ResNet-18, collapsed stages, and one per tutorial step. */
export const PICTURES: Picture[] = [
  { out: 'resnet18.svg', arch: 'resnet18' },
  { out: 'resnet18-stages.svg', arch: 'resnet18', collapse: 'stages' },
  { out: 'resnet152-stages.svg', arch: 'resnet152', collapse: 'stages' },
  { out: 'tutorial/step1-plain.svg', snippet: 'step1-plain.yaml' },
  { out: 'tutorial/step2-residual.svg', snippet: 'step2-residual.yaml' },
  { out: 'tutorial/step3-projection.svg', snippet: 'step3-projection.yaml' },
];

function graphOf(p: Picture): CompiledGraph {
  let r;
  if (p.arch) {
    // Relative to the repository root, so the node tooltips read `architectures/resnet18.yaml:...`.
    const cwd = process.cwd();
    process.chdir(ROOT);
    try {
      r = compileFile(join('architectures', `${p.arch}.yaml`));
    } finally {
      process.chdir(cwd);
    }
  } else {
    const s = tutorialSnippets().find((x) => x.file === p.snippet);
    if (!s) throw new Error(`docs/tutorial.md has no snippet "# ${p.snippet}"`);
    r = compileSnippet(s);
  }
  if (!r.graph) throw new Error(`${p.arch ?? p.snippet} does not compile: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return r.graph;
}

/** Every picture's path under docs/images/ and its SVG text. */
export function renderPictures(): Map<string, string> {
  return new Map(PICTURES.map((p) => [p.out, formatSvg(graphOf(p), { collapse: p.collapse }) + '\n']));
}

function main() {
  if (process.argv.includes('--tutorial')) console.log(`docs/tutorial.md: ${refreshTutorial()} output blocks rewritten`);
  for (const [out, svg] of renderPictures()) {
    const path = join(ROOT, 'docs', 'images', out);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, svg);
    console.log(`docs/images/${out}  ${(svg.length / 1024).toFixed(1)} KiB`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
