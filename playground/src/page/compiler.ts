/**
 * The two compile workers: one answers diagnostics, completion and hover at once; the other
 * draws (dagre's layout of 500 nodes takes seconds, and diagnostics must not wait for it). Only
 * the replies to the newest text are passed on.
 */
import type { CompileReply, CompileRequest, HelpReply, PictureReply } from '../protocol.js';

export interface CompilerEvents {
  compiled(m: CompileReply): void;
  drawn(m: PictureReply): void;
}

export class CompilerClient {
  private readonly compiler = new Worker(new URL('./compile.worker.js', import.meta.url), { type: 'module' });
  private readonly painter = new Worker(new URL('./compile.worker.js', import.meta.url), { type: 'module' });
  private readonly pending = new Map<number, (r: HelpReply) => void>();
  private helpId = 0;
  /** The id of the newest compile request. */
  latest = 0;

  constructor(events: CompilerEvents) {
    this.compiler.onmessage = (e: MessageEvent<CompileReply | HelpReply | PictureReply>) => {
      const m = e.data;
      if (m.type === 'help') {
        this.pending.get(m.id)?.(m);
        this.pending.delete(m.id);
      } else if (m.type === 'compiled' && m.id === this.latest) events.compiled(m);
    };
    this.painter.onmessage = (e: MessageEvent<PictureReply>) => {
      if (e.data.id === this.latest) events.drawn(e.data);
    };
  }

  help(type: 'complete' | 'hover', text: string, pos: number): Promise<HelpReply> {
    const id = ++this.helpId;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.compiler.postMessage({ type, id, text, pos });
    });
  }

  compile(text: string, file: string, sets: string[], collapse: 'none' | 'stages'): void {
    const req: CompileRequest = { type: 'compile', id: ++this.latest, text, file, sets, collapse, picture: false };
    this.compiler.postMessage(req);
    this.painter.postMessage({ ...req, picture: true });
  }
}
