/** Diagnostics as squiggles in the editor (with a quick-fix where the hint names one) and as the Problems list. */
import { setDiagnostics, type Diagnostic as CmDiagnostic } from '@codemirror/lint';
import type { CompileReply } from '../protocol.js';
import { $ } from './dom.js';
import type { Editor } from './editor.js';

const QUICK_FIX = /Did you mean "([^"]+)"\?/;

export function showDiagnostics(editor: Editor, m: CompileReply): void {
  const view = editor.view;
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
        actions: fix ? [{ name: `Use "${fix}"`, apply: (_v: unknown, f: number, t: number) => editor.fix(f, t, fix) }] : [],
      };
    });
  view.dispatch(setDiagnostics(view.state, list));
  $('problems').replaceChildren(
    ...m.diagnostics.map((d) => {
      const li = document.createElement('li');
      li.className = `diag ${d.severity}`;
      li.dataset.code = d.code;
      li.textContent = d.formatted;
      if (d.source === 'text') li.addEventListener('click', () => editor.jumpTo(d.from));
      return li;
    }),
  );
  $('problems-count').textContent = String(m.diagnostics.length);
}
