/**
 * The file `skipgraph playground FILE` serves: loaded into the editor, saved back on Save, and
 * watched. Nothing the disk does loses the editor's text: when the file changes and the editor
 * holds no unsaved edits it is reloaded; when it is deleted (or replaced by something that is not
 * a file) the page says so and keeps the text, and Save writes it again. An empty or unparsable
 * text is written over a non-empty file only after the user confirms (the server asks).
 */
import { $, type PageState } from './dom.js';
import type { Editor } from './editor.js';

/** The header the server wants on a confirmed save (src/cli/commands/playground.ts). */
const CONFIRM_HEADER = 'x-skipgraph-confirm';

type FileReply = { name: string; text: string } | { name: string; missing: true; reason: string };

const now = () => new Date().toLocaleTimeString();

export class FileSync {
  constructor(
    private readonly state: PageState,
    private readonly editor: Editor,
  ) {}

  /** Whether the editor's text differs from the file's (or the file is gone). */
  dirty(): boolean {
    return this.state.serverFile && (this.state.missing || this.editor.text() !== this.state.savedText);
  }

  updateDirty(): void {
    const dirty = this.dirty();
    $('save').toggleAttribute('disabled', !this.state.serverFile || !dirty);
    document.title = `${dirty ? '* ' : ''}${this.state.file} - skipgraph playground`;
  }

  async save(): Promise<void> {
    if (!this.state.serverFile) return;
    const text = this.editor.text();
    let res = await this.put(text, false);
    // The server refuses an empty or unparsable text over a non-empty file until the user says so.
    if (res.status === 409 && res.headers.get('x-skipgraph-ask') === 'confirm') {
      const why = await res.text();
      if (!confirm(`${why}.\n\nWrite it anyway?`)) {
        $('disk').textContent = 'not saved';
        return;
      }
      res = await this.put(text, true);
    }
    if (res.ok) {
      this.state.savedText = text;
      this.state.missing = false;
      $('disk').textContent = `saved ${now()}`;
    } else $('disk').textContent = `save failed: ${await res.text()}`;
    this.updateDirty();
  }

  private put(text: string, confirmed: boolean): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'text/plain' };
    if (confirmed) headers[CONFIRM_HEADER] = 'overwrite';
    return fetch('/api/file', { method: 'PUT', headers, body: text });
  }

  private async fetchFile(): Promise<FileReply | undefined> {
    try {
      const r = await fetch('/api/file', { cache: 'no-store' });
      if (!r.ok || !r.headers.get('content-type')?.includes('application/json')) return undefined;
      return (await r.json()) as FileReply;
    } catch {
      return undefined;
    }
  }

  /** Served with a file: loads it and watches it. False for the static site. */
  async connect(): Promise<boolean> {
    if (document.querySelector('meta[name="skipgraph-mode"]')?.getAttribute('content') !== 'file') return false;
    const f = await this.fetchFile();
    if (f === undefined) return false;
    this.state.serverFile = true;
    this.state.file = f.name;
    $('file').textContent = f.name;
    if ('missing' in f) this.gone(f.reason);
    else {
      this.state.savedText = f.text;
      this.editor.load(f.text);
    }
    new EventSource('/api/events').addEventListener('change', () => void this.changedOnDisk());
    this.updateDirty();
    return true;
  }

  private gone(reason: string): void {
    this.state.missing = true;
    $('disk').textContent = `${reason}; your text is kept`;
  }

  private async changedOnDisk(): Promise<void> {
    const next = await this.fetchFile();
    if (next === undefined) return;
    if ('missing' in next) {
      this.gone(next.reason);
      this.updateDirty();
      return;
    }
    const wasMissing = this.state.missing;
    this.state.missing = false;
    if (next.text === this.state.savedText && !wasMissing) return;
    if (this.editor.text() === this.state.savedText && !wasMissing) {
      this.state.savedText = next.text;
      this.editor.load(next.text);
      $('disk').textContent = `reloaded from disk ${now()}`;
    } else {
      this.state.savedText = next.text;
      $('disk').textContent = next.text === this.editor.text() ? `the file is back on disk ${now()}` : 'the file changed on disk; saving will overwrite it';
    }
    this.updateDirty();
  }
}
