/**
 * The YAML editor (CodeMirror 6): completion and hover from the schema help (asked of the
 * compile worker), lint squiggles set by diagnostics.ts, Ctrl/Cmd-S to save.
 */
import { autocompletion, type CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { yaml } from '@codemirror/lang-yaml';
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { lintGutter } from '@codemirror/lint';
import { EditorState, type Extension } from '@codemirror/state';
import { EditorView, drawSelection, highlightActiveLine, highlightActiveLineGutter, hoverTooltip, keymap, lineNumbers } from '@codemirror/view';
import type { HelpReply } from '../protocol.js';

export interface EditorHooks {
  help(type: 'complete' | 'hover', text: string, pos: number): Promise<HelpReply>;
  /** The text changed (typing, undo, a quick-fix or a load). */
  changed(): void;
  /** The cursor moved. */
  moved(): void;
  save(): void;
}

export class Editor {
  readonly view: EditorView;
  private readonly extensions: Extension[];

  constructor(parent: HTMLElement, private readonly hooks: EditorHooks) {
    this.extensions = [
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
      autocompletion({ override: [(ctx) => this.complete(ctx)] }),
      hoverTooltip((view, pos) => this.hover(view, pos)),
      keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab, { key: 'Mod-s', preventDefault: true, run: () => (hooks.save(), true) }]),
      EditorView.updateListener.of((u) => {
        if (u.docChanged) hooks.changed();
        if (u.selectionSet || u.docChanged) hooks.moved();
      }),
    ];
    this.view = new EditorView({ parent, state: EditorState.create({ doc: '', extensions: this.extensions }) });
  }

  text(): string {
    return this.view.state.doc.toString();
  }

  /**
   * Shows `text` as a new document: its undo history starts here, so an undo right after a file
   * opens cannot take the file's text away (it used to empty the editor, and Save then wrote a
   * 0-byte file). Scrolled to the top-left, whatever the previous document's scroll was.
   */
  load(text: string): void {
    this.view.setState(EditorState.create({ doc: text, extensions: this.extensions }));
    this.scrollHome(true);
    this.hooks.changed();
    this.hooks.moved();
  }

  /** Back to the first column (and to the top with `top`). */
  scrollHome(top = false): void {
    this.view.scrollDOM.scrollLeft = 0;
    if (top) this.view.scrollDOM.scrollTop = 0;
  }

  jumpTo(pos: number): void {
    this.view.dispatch({ selection: { anchor: Math.min(pos, this.view.state.doc.length) }, scrollIntoView: true });
    this.view.focus();
  }

  /** Replaces [from, to) with `text` (a quick-fix) and scrolls back to the start of the line when it fits there. */
  fix(from: number, to: number, text: string): void {
    const end = from + text.length;
    this.view.dispatch({ changes: { from, to, insert: text }, selection: { anchor: end } });
    this.scrollHome();
    this.view.dispatch({ effects: EditorView.scrollIntoView(end, { x: 'nearest' }) });
  }

  private async complete(ctx: CompletionContext): Promise<CompletionResult | null> {
    const r = await this.hooks.help('complete', ctx.state.doc.toString(), ctx.pos);
    if (!r.options.length) return null;
    const line = ctx.state.doc.lineAt(ctx.pos);
    // Unasked, completion opens only where a key or value starts.
    if (!ctx.explicit && r.from === r.to && !/[:\-{,]\s*$|^\s*$/.test(line.text.slice(0, ctx.pos - line.from))) return null;
    return { from: r.from, to: r.to, options: r.options.map((o) => ({ label: o.label, detail: o.detail, info: o.info, type: o.type })), validFor: /^[\w$.-]*$/ };
  }

  private async hover(view: EditorView, pos: number) {
    const r = await this.hooks.help('hover', view.state.doc.toString(), pos);
    if (!r.doc) return null;
    const doc = r.doc;
    return {
      pos: r.from,
      end: r.to,
      above: true,
      create: () => {
        const dom = document.createElement('div');
        dom.className = 'sg-hover';
        dom.textContent = doc;
        return { dom };
      },
    };
  }
}
