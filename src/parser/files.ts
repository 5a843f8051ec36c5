/**
 * The one file of the parser (and the compiler) that touches the file system or Node's path
 * module: opening and reading the file a user names and the `extends` bases it names, with the
 * checks that make that safe, and the path arithmetic those checks need. Everything else in
 * src/parser and src/compiler is pure, so it runs unchanged in a browser. The low-level reading
 * (open flags that never block on a FIFO, exact reads) is src/io/safe_read.ts's.
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
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
    if (st.isDirectory()) return refuse('file-not-found', `"${path}" is a folder, not a file.`, NOT_FOUND_HINT);
    if (!st.isFile()) return refuse('file-not-found', `"${path}" is not a regular file.`, NOT_FOUND_HINT);
    // Then opened once and read from what was opened (checked again there): a file replaced or
    // moved in between is a diagnostic, never an exception or a read of something else.
    const opened = openChecked(path);
    if ('problem' in opened) return refuse('file-not-found', opened.problem === 'not-a-file' ? `"${path}" is not a regular file.` : `Cannot read "${path}": it was moved or removed.`, NOT_FOUND_HINT);
    fd = opened.fd;
    if (opened.stat.size > READ_LIMITS.maxFileBytes) {
      return refuse('file-too-large', `The file is ${opened.stat.size.toLocaleString('en-US')} bytes; the limit is ${READ_LIMITS.maxFileBytes.toLocaleString('en-US')}.`, 'Architecture files are a few KB: check that this is the right file.');
    }
    return { bytes: readOpened(fd, opened.stat.size) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return refuse('file-not-found', code === 'EISDIR' ? `"${path}" is a folder, not a file.` : `Cannot read "${path}" (${code ?? 'error'}).`, NOT_FOUND_HINT);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The hint of a file not found: what a user of the installed package has, not a clone's folders. */
const NOT_FOUND_HINT = 'Check the path; `skipgraph list` names the shipped models, which compile by name (skipgraph compile resnet50).';

/** A shipped model's name: a file name without its extension. */
const SHIPPED_NAME = /^[A-Za-z0-9_]+$/;

let shippedFolder: string | null | undefined;

/**
 * The architectures/ folder shipped with skipgraph: beside the first package.json named skipgraph
 * above this module (src/parser, dist/parser or a bundle alike). None in a browser.
 */
export function shippedDir(): string | undefined {
  if (shippedFolder !== undefined) return shippedFolder ?? undefined;
  shippedFolder = null;
  try {
    let dir = decodeURIComponent(new URL('.', import.meta.url).pathname);
    if (process.platform === 'win32') dir = dir.replace(/^\/(?=[A-Za-z]:)/, '');
    for (let i = 0; i < 6; i++, dir = dirname(dir)) {
      const pkg = join(dir, 'package.json');
      if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'skipgraph') {
        if (existsSync(join(dir, 'architectures'))) shippedFolder = join(dir, 'architectures');
        break;
      }
    }
  } catch {
    // not in Node, or the package is unreadable: no shipped models, and files by path still work
  }
  return shippedFolder ?? undefined;
}

/** The names of the shipped models, sorted (`skipgraph list`, the playground's menu). */
export function shippedNames(): string[] {
  const dir = shippedDir();
  if (dir === undefined) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && SHIPPED_NAME.test(f.slice(0, -5)))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** Whether `path` exists (a base named by a bare name is local when its file is there). */
export const openable = (path: string): boolean => existsSync(path);

/** The absolute path of the shipped model `name` (resnet50), if skipgraph ships one. */
export function shippedArchitecture(name: string): string | undefined {
  const dir = shippedDir();
  if (dir === undefined || !SHIPPED_NAME.test(name)) return undefined;
  const path = join(dir, `${name}.yaml`);
  return existsSync(path) ? path : undefined;
}

/** Where a named architecture was found: `shipped` names the shipped model used, `local` a file beside. */
export interface Located {
  path: string;
  shipped?: string;
  /** `resnet50` was read as the local file resnet50.yaml, not the shipped model. */
  local?: boolean;
}

/**
 * The file a user's name stands for. A path that exists is itself. Otherwise a bare name
 * (`resnet50`) is a local `resnet50.yaml` when there is one, else the shipped model of that name;
 * `resnet50.yaml` and `architectures/resnet50.yaml` (a clone's paths, as the docs write them)
 * fall back to the shipped model too. Anything else is left as it is (and reported missing).
 */
export function locateArchitecture(path: string): Located {
  if (existsSync(path)) return { path };
  const m = /^(?:\.[\\/])?(?:architectures[\\/])?([A-Za-z0-9_]+)(\.ya?ml)?$/.exec(path);
  if (!m) return { path };
  if (m[2] === undefined && !path.includes('/') && existsSync(`${path}.yaml`)) return { path: `${path}.yaml`, local: true };
  const shipped = shippedArchitecture(m[1]);
  return shipped === undefined ? { path } : { path: shipped, shipped: m[1] };
}

/** A shipped model: its name, file, and the reference model it equals (its `# equals:` line). */
export interface ShippedModel {
  name: string;
  path: string;
  /** `torchvision.models.resnet50`, `timm resnet50d`, or `none (...)` for a paper's own network. */
  equals: string;
}

/**
 * The table of shipped models, one per file of the shipped folder, sorted by name: what
 * `skipgraph list`, the API and the playground's menu show. A file's reference model is its
 * `# equals: ...` comment line (a comment, not a key: a key would be inherited through `extends`).
 */
export function shippedModels(): ShippedModel[] {
  return shippedNames().map((name) => {
    const path = shippedArchitecture(name)!;
    return { name, path, equals: equalsOf(readFileSync(path, 'utf8')) };
  });
}

/** The `# equals: ...` comment of an architecture file's text ("unknown" without one). */
export function equalsOf(text: string): string {
  return /^# equals: (.+)$/m.exec(text)?.[1].trim() ?? 'unknown';
}
