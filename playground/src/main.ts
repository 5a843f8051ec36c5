/**
 * The playground page: a CodeMirror 6 YAML editor, live diagnostics, the graph, the summary and
 * the knobs, and training in the page. It holds no compiler logic: the compile worker runs
 * skipgraph's public API and this file only shows what comes back.
 */
import { autocompletion, type CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { yaml } from '@codemirror/lang-yaml';
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { lintGutter, setDiagnostics, type Diagnostic as CmDiagnostic } from '@codemirror/lint';
import { EditorState } from '@codemirror/state';
import { EditorView, drawSelection, highlightActiveLine, highlightActiveLineGutter, hoverTooltip, keymap, lineNumbers } from '@codemirror/view';
import architectures from 'virtual:architectures';
import type { CompileReply, CompileRequest, HelpReply, Knobs, PictureReply, PageDiagnostic, Summary, TrainEvent, TrainRequest } from './protocol.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);

// ---------- state ----------
let file = 'playground.yaml';
let serverFile = false; // served by `skipgraph playground FILE`: save writes it back
let savedText = '';
let collapse: 'none' | 'stages' = 'none';
const sets = new Map<string, string>();
let previous: Summary | undefined;
let current: CompileReply | undefined;
let compileId = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
const DEBOUNCE_MS = 120;

const compiler = new Worker(new URL('./compile.worker.js', import.meta.url), { type: 'module' });
/** A second copy of the compiler that draws: dagre's layout of 500 nodes takes seconds, diagnostics must not wait for it. */
const painter = new Worker(new URL('./compile.worker.js', import.meta.url), { type: 'module' });
const pending = new Map<number, (r: HelpReply) => void>();
let helpId = 0;

/** Hooks for scripts and the browser tests: read-only views of what the page shows. */
const hooks = {
  compiles: 0,
  lastCompile: undefined as CompileReply | undefined,
  train: [] as TrainEvent[],
  view: undefined as EditorView | undefined,
};
(window as unknown as { skipgraphPlayground: typeof hooks }).skipgraphPlayground = hooks;

// ---------- editor ----------
function completionSource(ctx: CompletionContext): Promise<CompletionResult | null> {
  const text = ctx.state.doc.toString();
  return help('complete', text, ctx.pos).then((r) => {
    if (!r.options.length) return null;
    if (!ctx.explicit && r.from === r.to && !/[:\-{,]\s*$|^\s*$/.test(ctx.state.doc.lineAt(ctx.pos).text.slice(0, ctx.pos - ctx.state.doc.lineAt(ctx.pos).from))) return null;
    return { from: r.from, to: r.to, options: r.options.map((o) => ({ label: o.label, detail: o.detail, info: o.info, type: o.type })), validFor: /^[\w$.-]*$/ };
  });
}

function help(type: 'complete' | 'hover', text: string, pos: number): Promise<HelpReply> {
  const id = ++helpId;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    compiler.postMessage({ type, id, text, pos });
  });
}

const hover = hoverTooltip(async (view, pos) => {
  const r = await help('hover', view.state.doc.toString(), pos);
  if (!r.doc) return null;
  return {
    pos: r.from,
    end: r.to,
    above: true,
    create: () => {
      const dom = document.createElement('div');
      dom.className = 'sg-hover';
      dom.textContent = r.doc!;
      return { dom };
    },
  };
});

const view = new EditorView({
  parent: $('editor'),
  state: EditorState.create({
    doc: '',
    extensions: [
      lineNumbers(),
      highlightActiveLineGutter(),
      highlightActiveLine(),
      drawSelection(),
      history(),
      indentOnInput(),
      bracketMatching(),
      yaml(),
      syntaxHighlighting(defaultHighlightStyle),
      lintGutter(),
      autocompletion({ override: [completionSource] }),
      hover,
      keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab, { key: 'Mod-s', preventDefault: true, run: () => (void save(), true) }]),
      EditorView.updateListener.of((u) => {
        if (u.docChanged) {
          schedule();
          updateDirty();
        }
        if (u.selectionSet || u.docChanged) highlightCursor();
      }),
    ],
  }),
});
hooks.view = view;

function setText(text: string) {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text }, selection: { anchor: 0 } });
}

// ---------- compiling ----------
function schedule() {
  clearTimeout(timer);
  timer = setTimeout(compileNow, DEBOUNCE_MS);
}

function compileNow() {
  clearTimeout(timer);
  const req: CompileRequest = { type: 'compile', id: ++compileId, text: view.state.doc.toString(), file, sets: realSets(), collapse, picture: false };
  compiler.postMessage(req);
  painter.postMessage({ ...req, picture: true });
}


painter.onmessage = (e: MessageEvent<PictureReply>) => {
  if (e.data.id !== compileId) return;
  lastPicture = e.data;
  if (current?.id === e.data.id) showPicture(e.data);
};
let lastPicture: PictureReply | undefined;
function showPicture(m: PictureReply) {
  if (!current?.ok) return;
  showGraph(m);
  $('status').textContent = `compiled in ${current.ms.toFixed(0)} ms, drawn in ${m.ms.toFixed(0)} ms`;
}

compiler.onmessage = (e: MessageEvent<CompileReply | HelpReply | PictureReply>) => {
  const m = e.data;
  if (m.type === 'help') {
    pending.get(m.id)?.(m);
    pending.delete(m.id);
    return;
  }
  if (m.id !== compileId) return; // a newer text is on its way
  if (m.type === 'picture') return;
  hooks.compiles++;
  hooks.lastCompile = m;
  current = m;
  showDiagnostics(m);
  if (m.ok && m.summary) {
    showSummary(m.summary, previous);
    previous = m.summary;
    showKnobs(m.knobs);
    $('table').textContent = m.table ?? '';
  }
  $('status').textContent = m.ok ? `compiled in ${m.ms.toFixed(0)} ms` : `${m.diagnostics.filter((d) => d.severity === 'error').length} error(s), ${m.ms.toFixed(0)} ms`;
  $('status').className = m.ok ? 'ok' : 'bad';
  document.body.classList.toggle('stale', !m.ok);
  if (lastPicture?.id === m.id) showPicture(lastPicture);
};

const QUICK_FIX = /Did you mean "([^"]+)"\?/;

function showDiagnostics(m: CompileReply) {
  const len = view.state.doc.length;
  const list: CmDiagnostic[] = m.diagnostics
    .filter((d) => d.source === 'text')
    .map((d) => {
      const from = Math.min(d.from, len);
      const to = Math.min(Math.max(d.to, from + (from < len ? 1 : 0)), len);
      const fix = d.hint ? QUICK_FIX.exec(d.hint)?.[1] : undefined;
      return {
        from,
        to,
        severity: d.severity,
        source: d.code,
        message: `${d.code}: ${d.message}${d.hint ? `\n${d.hint}` : ''}`,
        actions: fix ? [{ name: `Use "${fix}"`, apply: (v: EditorView, f: number, t: number) => v.dispatch({ changes: { from: f, to: t, insert: fix } }) }] : [],
      };
    });
  view.dispatch(setDiagnostics(view.state, list));
  const box = $('problems');
  box.replaceChildren(
    ...m.diagnostics.map((d) => {
      const li = document.createElement('li');
      li.className = `diag ${d.severity}`;
      li.dataset.code = d.code;
      li.textContent = d.formatted;
      if (d.source === 'text') li.addEventListener('click', () => jumpTo(d.from));
      return li;
    }),
  );
  $('problems-count').textContent = String(m.diagnostics.length);
}

// ---------- summary ----------
const grouped = (n: number) => n.toLocaleString('en-US');
function short(n: number): string {
  const a = Math.abs(n);
  return a >= 1e9 ? `${(n / 1e9).toFixed(2)}G` : a >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : a >= 1e3 ? `${(n / 1e3).toFixed(1)}K` : String(n);
}
const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;

function showSummary(s: Summary, prev?: Summary) {
  const rows: [string, string, number, (n: number) => string][] = [
    ['params', 'Params', s.params, grouped],
    ['trainable', 'Trainable', s.trainableParams, grouped],
    ['macs', 'MACs', s.macs, grouped],
    ['activations', 'Activations / sample', s.activationBytes, mib],
    ['nodes', 'Nodes', s.nodes, grouped],
    ['inserted', 'Inserted projections', s.inserted, grouped],
  ];
  const key: Record<string, keyof Summary> = { params: 'params', trainable: 'trainableParams', macs: 'macs', activations: 'activationBytes', nodes: 'nodes', inserted: 'inserted' };
  const tbody = $('totals');
  tbody.replaceChildren(
    ...rows.map(([id, label, value, fmt]) => {
      const tr = document.createElement('tr');
      const before = prev ? (prev[key[id]] as number) : value;
      const d = value - before;
      const diff = d === 0 ? '' : `${d > 0 ? '+' : '-'}${id === 'activations' ? mib(Math.abs(d)) : short(Math.abs(d))}`;
      for (const [cls, text] of [['label', label], ['value', fmt(value)], [`diff ${d > 0 ? 'up' : 'down'}`, diff]] as const) {
        const td = document.createElement('td');
        td.className = cls;
        td.textContent = text;
        tr.append(td);
      }
      tr.id = `total-${id}`;
      tr.dataset.value = String(value);
      return tr;
    }),
  );
  $('title').textContent = `${s.name}: ${s.classes} classes`;
  $('stages').replaceChildren(
    ...s.stages.map((st) => {
      const li = document.createElement('li');
      li.textContent = `${st.name}: ${st.blocks} block${st.blocks === 1 ? '' : 's'} -> ${st.shape.join('x')}`;
      return li;
    }),
  );
}

// ---------- graph ----------
let zoom = 1;
let panX = 0;
let panY = 0;
const pane = $('graph');
const stage = $('graph-inner');

function applyTransform() {
  stage.style.transform = `translate(${panX}px, ${panY}px) scale(${zoom})`;
}

function showGraph(m: PictureReply) {
  if (m.svgError) {
    stage.replaceChildren();
    $('graph-note').textContent = m.svgError;
    return;
  }
  $('graph-note').textContent = '';
  const first = !stage.firstChild;
  // The SVG is skipgraph's own output (every YAML string XML-escaped); parsed as SVG, not HTML.
  const doc = new DOMParser().parseFromString(m.svg!, 'image/svg+xml');
  stage.replaceChildren(document.importNode(doc.documentElement, true));
  if (first) fit();
  highlightCursor();
}

function fit() {
  const svg = stage.querySelector('svg');
  if (!svg) return;
  const w = Number(svg.getAttribute('width'));
  const h = Number(svg.getAttribute('height'));
  const r = pane.getBoundingClientRect();
  zoom = Math.min(1, r.width / w, Math.max(r.height / h, 0.25));
  panX = Math.max(0, (r.width - w * zoom) / 2);
  panY = 0;
  applyTransform();
}

pane.addEventListener('wheel', (e) => {
  e.preventDefault();
  const r = pane.getBoundingClientRect();
  const x = e.clientX - r.left;
  const y = e.clientY - r.top;
  const k = Math.exp(-e.deltaY * 0.0015);
  const z = Math.min(4, Math.max(0.05, zoom * k));
  panX = x - ((x - panX) * z) / zoom;
  panY = y - ((y - panY) * z) / zoom;
  zoom = z;
  applyTransform();
}, { passive: false });

let drag: { x: number; y: number; px: number; py: number; moved: boolean } | undefined;
pane.addEventListener('pointerdown', (e) => {
  drag = { x: e.clientX, y: e.clientY, px: panX, py: panY, moved: false };
});
window.addEventListener('pointermove', (e) => {
  if (!drag) return;
  const dx = e.clientX - drag.x;
  const dy = e.clientY - drag.y;
  if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
  panX = drag.px + dx;
  panY = drag.py + dy;
  if (drag.moved) applyTransform();
});
window.addEventListener('pointerup', () => setTimeout(() => (drag = undefined), 0));

pane.addEventListener('click', (e) => {
  if (drag?.moved) return;
  const g = (e.target as Element).closest('g.node');
  const id = g?.getAttribute('data-id');
  if (!id || !current) return;
  const place = current.places.find((p) => p.id === id);
  if (place) jumpTo(place.from);
});

function jumpTo(pos: number) {
  view.dispatch({ selection: { anchor: Math.min(pos, view.state.doc.length) }, scrollIntoView: true });
  view.focus();
}

function highlightCursor() {
  for (const el of stage.querySelectorAll('g.node.sg-cursor')) el.classList.remove('sg-cursor');
  if (!current) return;
  const pos = view.state.selection.main.head;
  let best = Infinity;
  const hits = new Set<string>();
  for (const p of current.places) {
    if (pos < p.from || pos > p.to) continue;
    const span = p.to - p.from;
    if (span < best) {
      best = span;
      hits.clear();
    }
    if (span === best) hits.add(p.id);
  }
  for (const el of stage.querySelectorAll('g.node')) if (hits.has(el.getAttribute('data-id') ?? '')) el.classList.add('sg-cursor');
}

// ---------- knobs (--set) ----------
function knob(label: string, path: string, value: number, min: number, max: number, kind: 'range' | 'number'): HTMLElement {
  const row = document.createElement('label');
  row.className = 'knob';
  const name = document.createElement('span');
  name.textContent = label;
  const input = document.createElement('input');
  input.type = kind;
  input.min = String(min);
  input.max = String(max);
  input.value = String(value);
  input.dataset.path = path;
  const out = document.createElement('output');
  out.textContent = String(value);
  input.addEventListener('input', () => {
    out.textContent = input.value;
    sets.set(path, input.value);
    showSets();
    schedule();
  });
  row.append(name, input, out);
  return row;
}

function showKnobs(k?: Knobs) {
  const box = $('knobs');
  // Rebuilt only when the set of knobs changes, so a slider being dragged keeps its focus.
  const sig = JSON.stringify({ s: k?.stages?.map((s) => s.name), i: !!k });
  if (box.dataset.sig === sig) {
    if (k) for (const input of box.querySelectorAll<HTMLInputElement>('input')) {
      const v = valueOf(k, input.dataset.path!);
      if (v !== undefined && document.activeElement !== input) {
        input.value = String(v);
        (input.nextElementSibling as HTMLElement).textContent = String(v);
      }
    }
    return;
  }
  box.dataset.sig = sig;
  if (!k) return box.replaceChildren();
  const items: HTMLElement[] = [knob('input size', 'input.size', k.input.height, 8, 512, 'number')];
  for (const [i, s] of (k.stages ?? []).entries()) {
    items.push(knob(`${s.name} blocks`, `stages.${i}.blocks`, s.blocks, 1, 48, 'range'));
    items.push(knob(`${s.name} channels`, `stages.${i}.channels`, s.channels, 1, 4096, 'number'));
  }
  if (!k.stages) {
    const note = document.createElement('p');
    note.textContent = 'The stages are generated (RegNet design or extends): blocks and widths are set in the text.';
    items.push(note);
  }
  box.replaceChildren(...items);
}

function valueOf(k: Knobs, path: string): number | undefined {
  if (path === 'input.size') return k.input.height;
  const m = /^stages\.(\d+)\.(blocks|channels)$/.exec(path);
  const s = m ? k.stages?.[Number(m[1])] : undefined;
  return s ? (m![2] === 'blocks' ? s.blocks : s.channels) : undefined;
}

// input.size is the page's knob for both sides: it becomes two --set overrides.
const realSets = () => [...sets].flatMap(([k, v]) => (k === 'input.size' ? [`input.height=${v}`, `input.width=${v}`] : [`${k}=${v}`]));

function showSets() {
  $('sets').textContent = sets.size ? realSets().map((s) => `--set ${s}`).join(' ') : '(none)';
}
$('reset-sets').addEventListener('click', () => {
  sets.clear();
  showSets();
  $('knobs').dataset.sig = '';
  compileNow();
});

// ---------- menu, views, files ----------
const menu = $<HTMLSelectElement>('arch');
for (const a of architectures) {
  const o = document.createElement('option');
  o.value = a.name;
  o.textContent = a.name;
  menu.append(o);
}
menu.addEventListener('change', () => openArchitecture(menu.value));

function openArchitecture(name: string) {
  const a = architectures.find((x) => x.name === name);
  if (!a) return;
  if (serverFile && view.state.doc.toString() !== savedText && !confirm('Discard unsaved changes?')) return;
  serverFile = false;
  file = `${a.name}.yaml`;
  sets.clear();
  showSets();
  previous = undefined;
  stage.replaceChildren();
  savedText = a.text;
  setText(a.text);
  menu.value = name;
  $('file').textContent = `architectures/${file}`;
  updateDirty();
  compileNow();
}

for (const b of document.querySelectorAll<HTMLInputElement>('input[name="collapse"]')) {
  b.addEventListener('change', () => {
    collapse = b.value as 'none' | 'stages';
    stage.replaceChildren();
    compileNow();
  });
}
$('fit').addEventListener('click', fit);

function updateDirty() {
  const dirty = serverFile && view.state.doc.toString() !== savedText;
  $('save').toggleAttribute('disabled', !serverFile || !dirty);
  document.title = `${dirty ? '* ' : ''}${file} - skipgraph playground`;
}

async function save() {
  if (!serverFile) return;
  const text = view.state.doc.toString();
  const res = await fetch('/api/file', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: text });
  if (res.ok) {
    savedText = text;
    $('disk').textContent = `saved ${new Date().toLocaleTimeString()}`;
  } else $('disk').textContent = `save failed: ${await res.text()}`;
  updateDirty();
}
$('save').addEventListener('click', () => void save());

/** Served by `skipgraph playground FILE`: the file is read from, watched and saved to the server. */
async function connectServer(): Promise<boolean> {
  if (document.querySelector('meta[name="skipgraph-mode"]')?.getAttribute('content') !== 'file') return false;
  let res: Response;
  try {
    res = await fetch('/api/file', { cache: 'no-store' });
  } catch {
    return false;
  }
  if (!res.ok || !res.headers.get('content-type')?.includes('application/json')) return false;
  const f = (await res.json()) as { name: string; text: string };
  serverFile = true;
  file = f.name;
  savedText = f.text;
  setText(f.text);
  $('file').textContent = f.name;
  menu.value = '';
  const events = new EventSource('/api/events');
  events.addEventListener('change', async () => {
    const r = await fetch('/api/file', { cache: 'no-store' });
    if (!r.ok) return;
    const next = (await r.json()) as { text: string };
    if (next.text === savedText) return;
    if (view.state.doc.toString() === savedText) {
      savedText = next.text;
      setText(next.text);
      $('disk').textContent = `reloaded from disk ${new Date().toLocaleTimeString()}`;
    } else {
      savedText = next.text;
      $('disk').textContent = 'the file changed on disk; saving will overwrite it';
    }
    updateDirty();
  });
  updateDirty();
  compileNow();
  return true;
}

// ---------- training ----------
let trainer: Worker | undefined;
const chart = $<HTMLCanvasElement>('chart');
const points: { step: number; loss: number; accuracy: number }[] = [];
const evals: { step: number; accuracy: number }[] = [];

function trainEvent(e: TrainEvent) {
  hooks.train.push(e);
  const log = $('train-status');
  switch (e.type) {
    case 'backend':
      $('backend').textContent = e.backend + (e.tried.length ? ` (not available: ${e.tried.join('; ')})` : '');
      break;
    case 'built':
      log.textContent = `built ${e.name} (${grouped(e.params)} params) in ${e.ms.toFixed(0)} ms`;
      break;
    case 'step':
      points.push(e);
      log.textContent = `step ${e.step}: loss ${e.loss.toFixed(3)}, batch accuracy ${(e.accuracy * 100).toFixed(0)}%, ${e.msPerStep.toFixed(0)} ms/step`;
      drawChart();
      break;
    case 'eval':
      evals.push(e);
      $('heldout').textContent = `held-out accuracy at step ${e.step}: ${(e.accuracy * 100).toFixed(1)}%`;
      drawChart();
      break;
    case 'paused':
    case 'done':
      trainButtons(false);
      log.textContent += e.type === 'done' ? ' (done)' : ' (stopped)';
      break;
    case 'exported':
      download('model.json', new Blob([e.modelJson], { type: 'application/json' }));
      download('weights.bin', new Blob([e.weights], { type: 'application/octet-stream' }));
      break;
    case 'error':
      log.textContent = `error: ${e.message}`;
      trainButtons(false);
      break;
  }
}

function trainButtons(running: boolean) {
  $('train').toggleAttribute('disabled', running);
  $('stop').toggleAttribute('disabled', !running);
  $('resume').toggleAttribute('disabled', running || points.length === 0);
  $('download').toggleAttribute('disabled', running || points.length === 0);
}

function download(name: string, blob: Blob) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

$('train').addEventListener('click', () => {
  trainer?.terminate();
  trainer = new Worker(new URL('./train.worker.js', import.meta.url), { type: 'module' });
  trainer.onmessage = (e: MessageEvent<TrainEvent>) => trainEvent(e.data);
  trainer.onerror = (e) => trainEvent({ type: 'error', message: e.message });
  points.length = 0;
  evals.length = 0;
  hooks.train = [];
  const req: TrainRequest = {
    type: 'train',
    text: view.state.doc.toString(),
    file,
    sets: realSets(),
    steps: Number($<HTMLInputElement>('steps').value),
    batch: Number($<HTMLInputElement>('batch').value),
    lr: Number($<HTMLInputElement>('lr').value),
    backend: params.get('backend') ?? undefined,
  };
  $('train-status').textContent = 'starting...';
  trainButtons(true);
  trainer.postMessage(req);
});
$('stop').addEventListener('click', () => trainer?.postMessage({ type: 'stop' }));
$('resume').addEventListener('click', () => {
  trainButtons(true);
  trainer?.postMessage({ type: 'resume', steps: Number($<HTMLInputElement>('steps').value) });
});
$('download').addEventListener('click', () => trainer?.postMessage({ type: 'export' }));
/** For tests and scripts: the trained model's logits on the first n held-out digits, with those inputs. */
(hooks as Record<string, unknown>).predict = (n: number) =>
  new Promise((resolve) => {
    const t = trainer!;
    const prev = t.onmessage;
    t.onmessage = (e: MessageEvent<TrainEvent>) => {
      if (e.data.type === 'predictions') {
        t.onmessage = prev;
        resolve(e.data);
      } else trainEvent(e.data);
    };
    t.postMessage({ type: 'predict', count: n });
  });

function drawChart() {
  const ctx = chart.getContext('2d')!;
  const w = chart.width;
  const h = chart.height;
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = '#cfd8dc';
  ctx.strokeRect(0.5, 0.5, w - 1, h - 1);
  if (!points.length) return;
  const maxStep = Math.max(points[points.length - 1].step, 10);
  const maxLoss = Math.max(...points.map((p) => p.loss), 0.1);
  const X = (s: number) => 30 + ((w - 40) * s) / maxStep;
  const line = (vals: { step: number; v: number }[], max: number, color: string) => {
    ctx.strokeStyle = color;
    ctx.beginPath();
    vals.forEach((p, i) => (i ? ctx.lineTo(X(p.step), h - 20 - ((h - 30) * p.v) / max) : ctx.moveTo(X(p.step), h - 20 - ((h - 30) * p.v) / max)));
    ctx.stroke();
  };
  // A running mean keeps the batch noise readable.
  const smooth = (k: 'loss' | 'accuracy') => points.map((p, i) => ({ step: p.step, v: points.slice(Math.max(0, i - 9), i + 1).reduce((a, q) => a + q[k], 0) / Math.min(10, i + 1) }));
  line(smooth('loss'), maxLoss, '#1e88e5');
  line(smooth('accuracy'), 1, '#43a047');
  if (evals.length) line(evals.map((e) => ({ step: e.step, v: e.accuracy })), 1, '#d81b60');
  ctx.fillStyle = '#37474f';
  ctx.font = '11px monospace';
  ctx.fillText(`loss (max ${maxLoss.toFixed(2)})`, 34, 14);
  ctx.fillStyle = '#43a047';
  ctx.fillText('batch acc', 180, 14);
  ctx.fillStyle = '#d81b60';
  ctx.fillText('held-out acc', 260, 14);
  ctx.fillStyle = '#37474f';
  ctx.fillText(`step ${points[points.length - 1].step}`, w - 70, h - 6);
}
trainButtons(false);
drawChart();

// ---------- start ----------
showSets();
void connectServer().then((served) => {
  if (!served) openArchitecture(params.get('arch') ?? 'resnet18');
});
