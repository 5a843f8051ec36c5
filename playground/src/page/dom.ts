/** The page's elements by id, and the state every part of the page reads (passed in, never global). */
import type { CompileReply, Summary } from '../protocol.js';

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

export interface PageState {
  /** The name the compiler reports diagnostics under (the served file's, or `<arch>.yaml`). */
  file: string;
  /** Served by `skipgraph playground FILE`: Save writes the text back. */
  serverFile: boolean;
  /** The text as it is on disk (or as shipped): the editor is dirty when it differs. */
  savedText: string;
  /** The file is gone from disk (deleted or replaced by something that is not a file). */
  missing: boolean;
  collapse: 'none' | 'stages';
  /** The last compile of the current text, and the summary of the last successful one before it. */
  current?: CompileReply;
  previous?: Summary;
}

export const newPageState = (): PageState => ({ file: 'playground.yaml', serverFile: false, savedText: '', missing: false, collapse: 'none' });
