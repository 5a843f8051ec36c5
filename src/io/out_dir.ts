/**
 * Output folders (`--out`): checked before any work (a file where a folder should be, a parent
 * that cannot be created, the input model itself, another model's files), created one level at a
 * time (Node's recursive mkdir loops forever under /proc), written whole through a temporary
 * sibling folder and a rename, and locked while a training run writes into them.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, chmodSync, closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../errors/index.js';
import { inputIds, kindOf } from './output_policy.js';
import { checkRunFolder, type Engine } from './run_folder.js';
import { fsReason, FS_REASONS } from './safe_read.js';

/** The files of a saved model (file_io.ts's MODEL_JSON and WEIGHTS_BIN; not imported, which would be a cycle). */
const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

export interface OutCheck {
  /** The flag, for messages (default --out). */
  flag?: string;
  /** Model folders this command reads: --out may not be one of them unless `force`. */
  inputs?: string[];
  /** Replace a folder that already holds a model (or is an input). */
  force?: boolean;
  /** A folder that already holds a model is fine (train: the run's own folder, for --resume). */
  allowModel?: boolean;
  /** A training run folder of this engine: the other engine's folder is refused (run_folder.ts). */
  run?: Engine;
}

/** The nearest folder above `p` that exists (p itself when it exists). */
function existingAncestor(p: string): string {
  let at = resolve(p);
  for (;;) {
    if (existsSync(at)) return at;
    const up = dirname(at);
    if (up === at) return at;
    at = up;
  }
}

/**
 * Checks `out` as an output folder before any work is done; returns it resolved. Nothing is
 * left behind (a folder is created and removed, to be sure one can be). Refuses (UserError): a file, a name ending in .json (model.json goes inside --out), a
 * path whose nearest existing part is a file or is not writable, an input folder, and a folder
 * that holds a model's files (unless `force`).
 */
export function checkOutDir(out: string, o: OutCheck = {}): string {
  const flag = o.flag ?? '--out';
  const abs = resolve(out);
  if (existsSync(abs) || isLink(abs)) {
    let st;
    try {
      st = statSync(abs);
    } catch (e) {
      throw new UserError(`${flag} ${out}: ${fsReason(e)}`);
    }
    if (!st.isDirectory()) throw new UserError(`${flag} ${out} is ${kindOf(st)}; ${flag} names a folder (model.json and weights.bin are written inside it)`);
    // The input is compared by device and inode (another name for it is caught too), and is
    // never written over, with or without --force (the output policy, output_policy.ts).
    for (const input of o.inputs ?? []) {
      let ist;
      try {
        ist = statSync(input);
      } catch {
        continue;
      }
      if (ist.dev === st.dev && ist.ino === st.ino) throw new UserError(`${flag} ${out} is the model folder being read; skipgraph never writes over its own input (even with --force): choose another folder`);
    }
    // What the model is written over must be a regular file: never a link, FIFO or device.
    for (const f of [MODEL_JSON, WEIGHTS_BIN]) {
      let fst;
      try {
        fst = lstatSync(join(abs, f));
      } catch {
        continue;
      }
      if (!fst.isFile()) throw new UserError(`${flag} ${out} holds ${f}, which is ${kindOf(fst)}; skipgraph never writes through a link nor replaces a device, FIFO or socket (even with --force): remove it, or choose another folder`);
      const input = inputIds(o.inputs).find((i) => i.dev === fst.dev && i.ino === fst.ino);
      if (input !== undefined) throw new UserError(`${flag} ${out} holds ${f}, which is the input ${input.name} of this command; skipgraph never writes over its own input (even with --force): choose another folder`);
    }
    if (o.run !== undefined) checkRunFolder(abs, o.run, flag);
    const holds = [MODEL_JSON, WEIGHTS_BIN].filter((f) => existsSync(join(abs, f)));
    if (holds.length > 0 && !o.force && !o.allowModel) {
      throw new UserError(`${flag} ${out} already holds a model (${holds.join(', ')}); choose another folder, or add --force to replace it`);
    }
  } else if (/\.json$/i.test(abs)) {
    throw new UserError(`${flag} ${out} looks like a file name; ${flag} names a folder (model.json and weights.bin are written inside it): try ${flag} ${out.replace(/\.json$/i, '')}`);
  }
  const base = existingAncestor(abs);
  if (base !== abs) {
    let st;
    try {
      st = statSync(base);
    } catch (e) {
      throw new UserError(`cannot create ${flag} ${out}: ${fsReason(e)}`);
    }
    if (!st.isDirectory()) throw new UserError(`cannot create ${flag} ${out}: ${base} is a file, not a folder`);
  }
  probeWritable(existsSync(abs) ? abs : base, `cannot ${existsSync(abs) ? 'write into' : 'create'} ${flag} ${out}`);
  return abs;
}

/**
 * Creates and removes an empty folder in `dir`: the only sure test that a folder can be created
 * there (access(2) says yes to root on a read-only mount, and /proc refuses only at mkdir).
 */
function probeWritable(dir: string, what: string): void {
  const probe = join(dir, `.skipgraph-probe.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    accessSync(dir, constants.W_OK);
    mkdirSync(probe);
  } catch (e) {
    throw new UserError(`${what}: ${dir}: ${fsReason(e)}`);
  }
  rmSync(probe, { recursive: true, force: true });
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** mkdir -p, one level at a time (never hangs, unlike Node's recursive mkdir under /proc). */
export function makeFolders(dir: string): void {
  const abs = resolve(dir);
  const missing: string[] = [];
  for (let at = abs; !existsSync(at); at = dirname(at)) {
    missing.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statSync(d).isDirectory()) continue;
      throw new UserError(`cannot create the folder ${d}: ${fsReason(e)}`);
    }
  }
}

/** Whether process `pid` is alive (EPERM: alive, someone else's). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Temporary files and folders of skipgraph's writers: NAME.tmp-PID[-hex]. */
const TEMP = /\.tmp-(\d+)(?:-[0-9a-f]+)?$/;

/**
 * Removes the temporary files and folders in `dir` whose names start with one of `prefixes` and
 * that were left by processes that are gone (NAME.tmp-PID...); returns their names.
 */
export function removeDeadTemps(dir: string, prefixes: readonly string[]): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const e of entries) {
    const m = TEMP.exec(e);
    if (m === null || !prefixes.some((p) => e.startsWith(p)) || processAlive(Number(m[1]))) continue;
    rmSync(join(dir, e), { recursive: true, force: true });
    removed.push(e);
  }
  return removed;
}

/**
 * Writes a model folder whole. When `out` does not exist, `write` fills a temporary sibling
 * folder, which is then renamed to `out`. When it exists (allowed by checkOutDir), `write` fills
 * a temporary folder inside it and each file is renamed over its old version, model.json last,
 * so the folder's other files stay and model.json never names weights that are not in place. A
 * failure while writing leaves `out` as it was and no temporary behind.
 */
export async function writeFolderAtomic(out: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const abs = resolve(out);
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const exists = existsSync(abs);
  const parent = exists ? abs : dirname(abs);
  if (!exists) makeFolders(parent);
  const prefix = exists ? '.skipgraph-write.tmp-' : `.${basename(abs)}.tmp-`;
  removeDeadTemps(parent, [prefix]);
  const tmp = join(parent, exists ? `${prefix}${tag}` : `${prefix}${tag}`);
  try {
    mkdirSync(tmp);
    await write(tmp);
    if (!exists) renameSync(tmp, abs);
    else {
      const files = readdirSync(tmp).sort((x, y) => Number(x === MODEL_JSON) - Number(y === MODEL_JSON));
      for (const f of files) {
        keepMode(join(abs, f), join(tmp, f)); // a replaced file keeps its mode (0600 stays 0600)
        renameSync(join(tmp, f), join(abs, f));
      }
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Gives `next` the mode of the regular file at `old`, when there is one. */
function keepMode(old: string, next: string): void {
  let st;
  try {
    st = lstatSync(old);
  } catch {
    return;
  }
  if (st.isFile()) chmodSync(next, st.mode & 0o7777);
}

export const LOCK = '.skipgraph.lock';

/**
 * Takes `dir`'s lock (a file holding this process's id, created exclusively): a second run into
 * the same folder is refused while the first is alive; a lock left by a dead process is taken
 * over. Returns the release function (also run at exit).
 */
export function lockFolder(dir: string, flag = '--out'): () => void {
  const path = join(dir, LOCK);
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw new UserError(`cannot lock ${flag} ${dir}: ${fsReason(e)}`);
      let pid = NaN;
      try {
        pid = Number(readFileSync(path, 'utf8').trim());
      } catch {
        // unreadable: treat as stale
      }
      if (processAlive(pid)) throw new UserError(`another skipgraph run (process ${pid}) is writing to ${flag} ${dir}; wait for it to finish, or choose another folder`);
      unlinkSync(path);
      continue;
    }
    writeSync(fd, String(process.pid));
    closeSync(fd);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      process.off('exit', release);
      try {
        if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
      } catch {
        // already gone
      }
    };
    process.on('exit', release);
    return release;
  }
}

/** The message of a file-system error (ENOSPC, EACCES, ...), or undefined for any other error. */
export function fileSystemMessage(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException;
  if (typeof e !== 'object' || e === null || typeof e.code !== 'string' || typeof e.syscall !== 'string' || !Object.hasOwn(FS_REASONS, e.code)) return undefined;
  const verb = e.syscall === 'open' ? 'open' : /^(write|rename|mkdir|copyfile|unlink|rmdir|rm|ftruncate|fsync|close|symlink|link)/.test(e.syscall) ? 'write' : 'read';
  const dest = (e as { dest?: string }).dest;
  return `cannot ${verb} ${e.path ?? 'a file'}${dest ? ` (to ${dest})` : ''}: ${FS_REASONS[e.code]} (${e.code})`;
}
