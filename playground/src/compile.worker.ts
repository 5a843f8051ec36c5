/**
 * The compiler, in a web worker: the page posts the text on every (debounced) change and gets
 * back diagnostics, the summary, the table and the SVG picture. Only skipgraph's public API is
 * used (compileSource, formatDiagnostic, formatTable, layoutGraph/renderSvg, checkPicture).
 */
import { checkPicture, compileSource, formatTable, outputLabel, renderSvg, layoutGraph, type CompileResult } from '../../src/compiler/index.js';
import { formatDiagnostic, type Diagnostic } from '../../src/parser/index.js';
import { playgroundFiles } from './files.js';
import { complete, hover } from './schema_help.js';
import type { CompileReply, CompileRequest, HelpReply, HelpRequest, Knob, Knobs, PageDiagnostic, PictureReply } from './protocol.js';

function pageDiagnostic(d: Diagnostic, r: CompileResult, file: string, textLength: number): PageDiagnostic {
  const inText = d.loc.file === file;
  const from = inText && d.loc.offset >= 0 ? Math.min(d.loc.offset, textLength) : 0;
  const to = inText && d.loc.endOffset >= 0 ? Math.min(Math.max(d.loc.endOffset, from), textLength) : from;
  return {
    code: d.code,
    severity: d.severity === 'error' ? 'error' : 'warning',
    message: d.message,
    hint: d.hint,
    source: inText ? 'text' : 'set',
    file: d.loc.file,
    line: d.loc.line,
    col: d.loc.col,
    from,
    to,
    formatted: formatDiagnostic(d, { sources: r.sources }),
  };
}

/**
 * The override controls for this text: the input size, then each written stage's blocks and
 * channels, or each RegNet design's parameters (depth, w0, wa, wm, group width, ...), all as the
 * `--set` paths the CLI takes.
 */
function knobsOf(r: CompileResult, text: string): Knobs | undefined {
  const ast = r.ast;
  const g = r.graph;
  if (!ast || !g) return undefined;
  const knobs: Knob[] = [{ label: 'input size', path: 'input.size', value: g.input.height, min: 8, max: 512, step: 1, kind: 'number' }];
  const designs = ast.stages.filter((s) => s.design);
  if (designs.length > 0) {
    ast.stages.forEach((s, i) => {
      const d = s.design;
      if (!d) return;
      const at = ast.stages.length > 1 ? `stage ${i} ` : '';
      const path = (k: string) => `stages.${i}.regnet.${k}`;
      knobs.push(
        { label: `${at}depth`, path: path('depth'), value: d.depth, min: 1, max: 64, step: 1, kind: 'range' },
        { label: `${at}w0`, path: path('w0'), value: d.w0, min: 8, max: 512, step: 8, kind: 'number' },
        { label: `${at}wa`, path: path('wa'), value: d.wa, min: 0, max: 256, step: 0.01, kind: 'number' },
        { label: `${at}wm`, path: path('wm'), value: d.wm, min: 1.5, max: 3, step: 0.01, kind: 'number' },
        { label: `${at}group width`, path: path('group_width'), value: d.groupWidth, min: 1, max: 256, step: 1, kind: 'number' },
        { label: `${at}bottleneck ratio`, path: path('bottleneck_ratio'), value: d.bottleneckRatio, min: 0.25, max: 4, step: 0.25, kind: 'number' },
      );
      if (d.seRatio > 0) knobs.push({ label: `${at}SE ratio`, path: path('se_ratio'), value: d.seRatio, min: 0, max: 1, step: 0.05, kind: 'number' });
    });
    return { knobs };
  }
  // Stages as written in the YAML, so stages.N.* names them for --set.
  const written = ast.stages.every((s) => s.naming === undefined) && !/^\s*extends\s*:/m.test(text);
  if (!written) return { knobs, note: 'The stages come from the file this one extends: set their blocks and widths in the text.' };
  ast.stages.forEach((s, i) => {
    const name = g.stages[i]?.name ?? `layer${i + 1}`;
    knobs.push({ label: `${name} blocks`, path: `stages.${i}.blocks`, value: s.blocks, min: 1, max: 48, step: 1, kind: 'range' });
    knobs.push({ label: `${name} channels`, path: `stages.${i}.channels`, value: s.channels, min: 1, max: 4096, step: 1, kind: 'number' });
  });
  return { knobs };
}

function compile(req: CompileRequest): [CompileReply, CompileResult] {
  const t0 = performance.now();
  const r = compileSource(req.text, { file: req.file, sets: req.sets, extendsRoot: '/', files: playgroundFiles });
  const diagnostics = r.diagnostics.map((d) => pageDiagnostic(d, r, req.file, req.text.length));
  const reply: CompileReply = { type: 'compiled', id: req.id, ok: !!r.graph, diagnostics, dropped: r.dropped, ms: 0, places: [] };
  const g = r.graph;
  if (g) {
    reply.summary = {
      name: g.name,
      returns: outputLabel(g),
      nodes: g.nodes.length,
      inserted: g.nodes.filter((n) => n.inserted).length,
      params: g.totals.params,
      trainableParams: g.totals.trainableParams,
      nonTrainableParams: g.totals.nonTrainableParams,
      macs: g.totals.macs,
      activationBytes: g.totals.activationBytes,
      stages: g.stages.map((s) => ({ name: s.name, blocks: s.blocks, shape: s.shape })),
    };
    reply.table = formatTable(g);
    reply.knobs = knobsOf(r, req.text);
    const place = (id: string, loc: { file: string; offset: number; endOffset: number; line: number }) => {
      if (loc.file === req.file && loc.offset >= 0) reply.places.push({ id, from: loc.offset, to: Math.max(loc.endOffset, loc.offset), line: loc.line });
    };
    if (req.collapse === 'stages') for (const s of g.stages) place(s.name, s.loc);
    for (const n of g.nodes) place(n.id, n.loc);
  }
  reply.ms = performance.now() - t0;
  return [reply, r];
}

/** The picture, after the diagnostics went out: dagre's layout takes longer than the compile. */
function picture(req: CompileRequest, g: NonNullable<CompileResult['graph']>): PictureReply {
  const t0 = performance.now();
  const reply: PictureReply = { type: 'picture', id: req.id, ms: 0 };
  const refusal = checkPicture(g, req.collapse);
  if (refusal) reply.svgError = `${refusal.message} ${refusal.hint ?? ''}`.trim();
  else reply.svg = renderSvg(g, layoutGraph(g, { collapse: req.collapse }));
  reply.ms = performance.now() - t0;
  return reply;
}

let latest = 0;

self.onmessage = (e: MessageEvent<CompileRequest | HelpRequest>) => {
  const req = e.data;
  if (req.type === 'compile') {
    let reply: CompileReply;
    latest = req.id;
    try {
      const [done, r] = compile(req);
      reply = done;
      if (!req.picture) postMessage(reply);
      // A newer text may be queued behind this one: the page asks again, so the layout waits a tick.
      if (req.picture && r.graph) {
        const g = r.graph;
        setTimeout(() => {
          if (latest === req.id) postMessage(picture(req, g));
        }, 0);
      }
      return;
    } catch (err) {
      // Only a skipgraph bug gets here (user errors are diagnostics): shown, not swallowed.
      reply = { type: 'compiled', id: req.id, ok: false, dropped: 0, ms: 0, places: [], diagnostics: [{ code: 'internal', severity: 'error', message: String((err as Error).message ?? err), source: 'text', file: req.file, line: 1, col: 1, from: 0, to: 0, formatted: String((err as Error).stack ?? err) }] };
    }
    postMessage(reply);
  } else {
    const help = req.type === 'complete' ? complete(req.text, req.pos) : hover(req.text, req.pos);
    const reply: HelpReply = { type: 'help', id: req.id, ...help };
    postMessage(reply);
  }
};
