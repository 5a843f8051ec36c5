/**
 * The one file `skipgraph playground FILE` edits: read, saved and watched without ever blocking
 * the server or losing the user's work.
 *
 * - Read: only a regular file, opened non-blocking and checked with fstat (safe_read.ts), so a
 *   FIFO or a device swapped in for the file is refused at once instead of blocking the event
 *   loop; a file that went away is reported, not fatal.
 * - Save: through the output policy's writer (src/io/output_policy.ts): a temporary file beside
 *   the target, given the old file's mode (0600 stays 0600), synced and renamed over it, after
 *   checking that what is there is still the file that was planned. A symlink is written
 *   through: the file it points to is replaced, the link stays a link. A dangling link, a FIFO, a
 *   device or a folder is refused. A file that was deleted is created again.
 * - An empty or unparsable text is written over a non-empty file only when the request says the
 *   user confirmed it (the page asks): one stray keystroke must not empty the user's YAML.
 */
import { lstatSync, realpathSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { UserError } from '../../errors/index.js';
import { kindOf, writeOutput, type PlannedOutput } from '../../io/output_policy.js';
import { fsReason, readCappedFile } from '../../io/safe_read.js';

/** What GET /api/file answers: the text, or why there is none (the page keeps its edits). */
export type FileState = { name: string; text: string } | { name: string; missing: true; reason: string };

/** Why a save was not done; `confirm` when the page may ask the user and send it again. */
export interface SaveRefusal {
  status: 409 | 422 | 500;
  message: string;
  confirm?: boolean;
}

/** Whether `text` is one a user would not mean to save over a real file: empty, or not YAML at all. */
export function suspiciousText(text: string): 'empty' | 'unparsable' | undefined {
  if (text.trim() === '') return 'empty';
  const doc = parseDocument(text, { prettyErrors: false });
  return doc.errors.length > 0 ? 'unparsable' : undefined;
}

export class EditedFile {
  readonly path: string;

  constructor(
    path: string,
    /** The name shown to the user. */
    readonly name: string,
    readonly maxBytes: number,
  ) {
    this.path = resolve(path);
  }

  /** The current text; a missing, unreadable or non-regular file is a state, never a throw. */
  read(): FileState {
    try {
      return { name: this.name, text: readCappedFile(this.path, this.maxBytes, 'the edited file').toString('utf8') };
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      const gone = !this.exists();
      return { name: this.name, missing: true, reason: gone ? `${this.name} is no longer on disk; Save creates it again` : e.message };
    }
  }

  private exists(): boolean {
    try {
      lstatSync(this.path);
      return true;
    } catch {
      return false;
    }
  }

  /** Writes `text`, or says why not. */
  save(text: string, confirmed: boolean): SaveRefusal | undefined {
    let plan: PlannedOutput & { size: number };
    try {
      plan = this.plan();
    } catch (e) {
      if (e instanceof UserError) return { status: 422, message: e.message };
      throw e;
    }
    const worry = suspiciousText(text);
    if (worry !== undefined && !confirmed && plan.size > 0) {
      return { status: 409, confirm: true, message: `the text is ${worry === 'empty' ? 'empty' : 'not valid YAML'} and ${this.name} is not: confirm to write it anyway` };
    }
    try {
      writeOutput(plan, text);
      return undefined;
    } catch (e) {
      if (e instanceof UserError) return { status: 422, message: e.message };
      return { status: 500, message: `cannot write ${this.name}: ${fsReason(e)}` };
    }
  }

  /**
   * Where a save goes: the file itself, or the file a symlink points to (so the link stays a
   * link); what is there must be a regular file, or nothing (a deleted file is created again).
   */
  private plan(): PlannedOutput & { size: number } {
    let st: Stats | undefined;
    try {
      st = lstatSync(this.path);
    } catch {
      st = undefined;
    }
    let target = this.path;
    if (st?.isSymbolicLink()) {
      try {
        target = realpathSync(this.path);
      } catch (e) {
        throw new UserError(`${this.name} is a symbolic link to nothing (${fsReason(e)}); nothing was written: restore its target or remove the link`);
      }
      st = lstatSync(target);
    }
    if (st !== undefined && !st.isFile()) throw new UserError(`${this.name} is now ${kindOf(st)}, not a regular file; nothing was written`);
    return {
      path: target,
      flag: 'save',
      shown: this.name,
      mode: st === undefined ? undefined : st.mode & 0o7777,
      found: st === undefined ? undefined : { dev: st.dev, ino: st.ino },
      size: st?.size ?? 0,
    };
  }
}
