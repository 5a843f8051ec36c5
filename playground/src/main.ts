/**
 * The playground page: wires the editor, the compile workers, the graph, the summary, the
 * overrides, the served file and training together. It holds no compiler logic (the compile
 * worker runs skipgraph's public API) and no state of its own outside `start`: each part gets
 * what it needs passed in (page/*.ts).
 */
import architectures from 'virtual:architectures';
import type { CompileReply, PictureReply } from './protocol.js';
import { CompilerClient } from './page/compiler.js';
import { showDiagnostics } from './page/diagnostics.js';
import { $, newPageState } from './page/dom.js';
import { Editor } from './page/editor.js';
import { FileSync } from './page/file_sync.js';
import { GraphView } from './page/graph_view.js';
import { Overrides } from './page/knobs.js';
import { clearSummary, showSummary } from './page/summary.js';
import { TrainingPanel } from './page/training.js';

/** The pause after a keystroke before the text is compiled. */
const DEBOUNCE_MS = 120;

function start(): void {
  const params = new URLSearchParams(location.search);
  const state = newPageState();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastPicture: PictureReply | undefined;

  const compiler = new CompilerClient({ compiled, drawn });
  const editor = new Editor($('editor'), {
    help: (type, text, pos) => compiler.help(type, text, pos),
    changed: () => {
      schedule();
      files.updateDirty();
    },
    moved: highlightCursor,
    save: () => void files.save(),
  });
  const graph = new GraphView($('graph'), $('graph-inner'), $('graph-note'), (id) => {
    const place = state.current?.places.find((p) => p.id === id);
    if (place) editor.jumpTo(place.from);
  });
  const overrides = new Overrides($('knobs'), $('sets'), schedule);
  const files = new FileSync(state, editor);
  const training = new TrainingPanel(() => ({ text: editor.text(), file: state.file, sets: overrides.realSets(), backend: params.get('backend') ?? undefined }));

  /** Hooks for scripts and the browser tests: read-only views of what the page shows. */
  const hooks = {
    compiles: 0,
    lastCompile: undefined as CompileReply | undefined,
    get train() {
      return training.events;
    },
    view: editor.view,
    graph,
    predict: (n: number) => training.predict(n),
  };
  (window as unknown as { skipgraphPlayground: typeof hooks }).skipgraphPlayground = hooks;

  function schedule(): void {
    clearTimeout(timer);
    timer = setTimeout(compileNow, DEBOUNCE_MS);
  }

  function compileNow(): void {
    clearTimeout(timer);
    compiler.compile(editor.text(), state.file, overrides.realSets(), state.collapse);
  }

  function compiled(m: CompileReply): void {
    hooks.compiles++;
    hooks.lastCompile = m;
    state.current = m;
    showDiagnostics(editor, m);
    if (m.ok && m.summary) {
      showSummary(m.summary, state.previous);
      state.previous = m.summary;
      overrides.show(m.knobs);
      $('table').textContent = m.table ?? '';
    } else if (editor.text().trim() === '') {
      // Nothing to show: the last model's graph and totals must not stand for an empty text.
      graph.clear();
      clearSummary();
      overrides.show(undefined);
      state.previous = undefined;
      lastPicture = undefined;
    }
    const errors = m.diagnostics.filter((d) => d.severity === 'error').length;
    $('status').textContent = m.ok ? `compiled in ${m.ms.toFixed(0)} ms` : `${errors} error(s), ${m.ms.toFixed(0)} ms`;
    $('status').className = m.ok ? 'ok' : 'bad';
    document.body.classList.toggle('stale', !m.ok);
    if (lastPicture?.id === m.id) showPicture(lastPicture);
  }

  function drawn(m: PictureReply): void {
    lastPicture = m;
    if (state.current?.id === m.id) showPicture(m);
  }

  function showPicture(m: PictureReply): void {
    if (!state.current?.ok) return;
    graph.show(m);
    highlightCursor();
    $('status').textContent = `compiled in ${state.current.ms.toFixed(0)} ms, drawn in ${m.ms.toFixed(0)} ms`;
  }

  /** Marks the boxes whose YAML span is the smallest one holding the cursor. */
  function highlightCursor(): void {
    const hits = new Set<string>();
    const pos = editor.view.state.selection.main.head;
    let best = Infinity;
    for (const p of state.current?.places ?? []) {
      if (pos < p.from || pos > p.to) continue;
      const span = p.to - p.from;
      if (span < best) {
        best = span;
        hits.clear();
      }
      if (span === best) hits.add(p.id);
    }
    graph.highlight(hits);
  }

  // ---------- the architecture menu and the views ----------
  const menu = $<HTMLSelectElement>('arch');
  for (const a of architectures) {
    const o = document.createElement('option');
    o.value = a.name;
    o.textContent = a.name;
    o.title = `equals ${a.equals}`;
    menu.append(o);
  }
  menu.addEventListener('change', () => openArchitecture(menu.value));

  function openArchitecture(name: string): void {
    const a = architectures.find((x) => x.name === name);
    if (!a) return;
    if (files.dirty() && !confirm('Discard unsaved changes?')) return;
    state.serverFile = false;
    state.missing = false;
    state.file = `${a.name}.yaml`;
    state.previous = undefined;
    overrides.clear();
    graph.clear();
    state.savedText = a.text;
    editor.load(a.text);
    menu.value = name;
    $('file').textContent = `architectures/${state.file}`;
    files.updateDirty();
    compileNow();
  }

  for (const b of document.querySelectorAll<HTMLInputElement>('input[name="collapse"]')) {
    b.addEventListener('change', () => {
      state.collapse = b.value as 'none' | 'stages';
      graph.clear();
      compileNow();
    });
  }
  $('fit').addEventListener('click', () => graph.fit());
  $('save').addEventListener('click', () => void files.save());
  $('reset-sets').addEventListener('click', () => {
    overrides.clear();
    compileNow();
  });

  void files.connect().then((served) => {
    if (served) {
      menu.value = '';
      compileNow();
    } else openArchitecture(params.get('arch') ?? 'resnet18');
  });
}

start();
