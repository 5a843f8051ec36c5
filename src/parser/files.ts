/**
 * The one file of the parser (and the compiler) that touches the file system or Node's path
 * module: opening and reading the file a user names and the `extends` bases it names, with the
 * checks that make that safe, and the path arithmetic those checks need. Everything else in
 * src/parser and src/compiler is pure, so it runs unchanged in a browser. The low-level reading
 * (open flags that never block on a FIFO, exact reads) is src/io/safe_read.ts's.
 */
import { closeSync, fstatSync, openSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { READ_FLAGS } from '../io/safe_read.js';
import { READ_LIMITS } from './read.js';

export { dirname, isAbsolute, relative, resolve, sep };

export type Opened = { fd: number; real: string; stat: Stats } | { problem: 'missing' | 'not-a-file' | 'outside' };

/**
 * Opens `path` once and checks what was opened, not the path: a regular file (a FIFO is opened
 * without blocking and refused), and (with `root`) whose real path lies inside `root`. The real
 * path is resolved after opening and must name the same file (device and inode) as the open
 * descriptor, so a symlink swapped in between is caught. Never throws; the caller closes `fd`.
 */
export function openChecked(path: string, root?: string): Opened {
  const inside = (real: string) => {
    if (root === undefined) return true;
    const realRel = relative(realpathSync(root), real);
    return !(realRel.startsWith('..' + sep) || realRel === '..' || isAbsolute(realRel));
  };
  // The path is checked first too, so a link out of the folder is refused without being opened.
  try {
    if (!inside(realpathSync(path))) return { problem: 'outside' };
  } catch {
    return { problem: 'missing' };
  }
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (err) {
    return { problem: (err as NodeJS.ErrnoException).code === 'EISDIR' ? 'not-a-file' : 'missing' };
  }
  const fail = (problem: 'missing' | 'not-a-file' | 'outside'): Opened => {
    closeSync(fd);
    return { problem };
  };
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return fail('not-a-file');
    const real = realpathSync(path);
    const now = statSync(real);
    if (now.dev !== stat.dev || now.ino !== stat.ino) return fail('outside');
    if (!inside(real)) return fail('outside');
    return { fd, real, stat };
  } catch {
    // Moved or removed while it was being checked.
    return fail('missing');
  }
}

export const closeFile = (fd: number): void => closeSync(fd);

/**
 * The bytes of an opened file, to its end but never more than READ_LIMITS.maxFileBytes + 1 (a
 * file that grew past the limit since its stat is then refused by its size, not read whole).
 */
export function readOpened(fd: number, size: number): Uint8Array {
  const cap = READ_LIMITS.maxFileBytes + 1;
  const chunks: Uint8Array[] = [];
  let total = 0;
  let want = Math.min(size + 1, cap);
  while (total < cap) {
    const buf = new Uint8Array(Math.max(1, Math.min(want, cap - total)));
    const k = readSync(fd, buf, 0, buf.length, total);
    if (k === 0) break;
    chunks.push(k === buf.length ? buf : buf.subarray(0, k));
    total += k;
    want = 64 * 1024;
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Paths in diagnostics: relative to the working folder when inside it, else absolute. */
export function displayName(path: string): string {
  let cwd: string;
  try {
    cwd = process.cwd();
  } catch {
    return path; // the working folder was removed: absolute names still say where
  }
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** The real path of `path`, as a one-item chain; none when it does not exist (or no longer does). */
export function realOrNone(path: string): string[] {
  try {
    return [realpathSync(path)];
  } catch {
    return [];
  }
}

/** `path` made absolute; as given when the working folder it is relative to was removed. */
export function absolute(path: string): string {
  try {
    return resolve(path);
  } catch {
    return path;
  }
}

/** `file`'s own name, and the absolute path of a name beside it made of `prefix` and that name. */
export function nameBeside(file: string, prefix: string): { name: string; beside: string } {
  const path = resolve(file);
  return { name: basename(path), beside: join(dirname(path), `${prefix}${basename(path)}`) };
}

/** Why a named architecture file was not read: the diagnostic parseFile reports at the file. */
export interface FileRefusal {
  code: 'file-not-found' | 'file-too-large';
  message: string;
  hint: string;
}

/**
 * The bytes of the architecture file a user named, or why not: a folder, a FIFO or a device is
 * refused before a byte is read, the file is opened once and read from what was opened (checked
 * again there), and its size is capped. Never throws.
 */
export function readArchitectureFile(path: string): { bytes: Uint8Array } | FileRefusal {
  const refuse = (code: FileRefusal['code'], message: string, hint: string): FileRefusal => ({ code, message, hint });
  let fd: number | undefined;
  try {
    // Checked before reading: /dev/zero or a FIFO would never end, and a 1.5 GB file would be read whole.
    const st = statSync(path);
    if (st.isDirectory()) return refuse('file-not-found', `"${path}" is a folder, not a file.`, 'Check the path; architectures/ holds the shipped files.');
    if (!st.isFile()) return refuse('file-not-found', `"${path}" is not a regular file.`, 'Check the path; architectures/ holds the shipped files.');
    // Then opened once and read from what was opened (checked again there): a file replaced or
    // moved in between is a diagnostic, never an exception or a read of something else.
    const opened = openChecked(path);
    if ('problem' in opened) return refuse('file-not-found', opened.problem === 'not-a-file' ? `"${path}" is not a regular file.` : `Cannot read "${path}": it was moved or removed.`, 'Check the path; architectures/ holds the shipped files.');
    fd = opened.fd;
    if (opened.stat.size > READ_LIMITS.maxFileBytes) {
      return refuse('file-too-large', `The file is ${opened.stat.size.toLocaleString('en-US')} bytes; the limit is ${READ_LIMITS.maxFileBytes.toLocaleString('en-US')}.`, 'Architecture files are a few KB: check that this is the right file.');
    }
    return { bytes: readOpened(fd, opened.stat.size) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return refuse('file-not-found', code === 'EISDIR' ? `"${path}" is a folder, not a file.` : `Cannot read "${path}" (${code ?? 'error'}).`, 'Check the path; architectures/ holds the shipped files.');
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
