/**
 * The parser's Node entry, and the one file of the parser (and the compiler) that touches the file
 * system or Node's path module: everything index.ts exports, plus the disk as a FileHost
 * (`diskFiles`: opening and reading the `extends` bases a file names, with the checks that make
 * that safe), the file a user names (`parseFile`), and the shipped models. Node callers import
 * this; index.ts opens no file, so it runs unchanged in a browser. The opening itself (a regular
 * file, never blocking on a FIFO, never a device) and the capped read are src/io/safe_read.ts's;
 * what they refuse becomes a located diagnostic here.
 */
import { closeSync, existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { liesInside, openRegular, readAtMost } from '../io/safe_read.js';
import { DiagnosticBag } from './diagnostics.js';
import type { FileHost, OpenedFile, OpenProblem } from './host.js';
import { parseArchitecture as parseText, type ParseOptions, type ParseResult } from './index.js';
import { READ_LIMITS } from './read.js';

export * from './index.js';

/** The cap of one read: a byte past the limit, so that a file over it shows it by its length. */
const READ_CAP = (): number => READ_LIMITS.maxFileBytes + 1;

/**
 * Opens `path` once and checks what was opened, not the path: a regular file (io's openRegular:
 * a FIFO is opened without blocking and refused), and (with `root`) whose real path lies inside
 * `root`. The real path is resolved after opening and must name the same file (device and inode)
 * as the open descriptor, so a symlink swapped in between is caught. Never throws.
 */
function openChecked(path: string, root?: string): OpenedFile | { problem: OpenProblem } {
  const inside = (real: string) => root === undefined || liesInside(realpathSync(root), real);
  // The path is checked first too, so a link out of the folder is refused without being opened.
  try {
    if (!inside(realpathSync(path))) return { problem: 'outside' };
  } catch {
    return { problem: 'missing' };
  }
  const opened = openRegular(path);
  if ('error' in opened) return { problem: (opened.error as NodeJS.ErrnoException).code === 'EISDIR' ? 'not-a-file' : 'missing' };
  if ('notRegular' in opened) return { problem: 'not-a-file' };
  const { fd, stat } = opened;
  const fail = (problem: OpenProblem): { problem: OpenProblem } => {
    closeSync(fd);
    return { problem };
  };
  try {
    const real = realpathSync(path);
    const now = statSync(real);
    if (now.dev !== stat.dev || now.ino !== stat.ino) return fail('outside');
    if (!inside(real)) return fail('outside');
    return { real, size: stat.size, stamp: `${stat.mtimeMs}\0${stat.size}`, read: () => readAtMost(fd, stat.size, READ_CAP()), close: () => closeSync(fd) };
  } catch {
    // Moved or removed while it was being checked.
    return fail('missing');
  }
}

/** The disk, as the parser's FileHost: Node's paths, the working folder, the shipped models. */
export const diskFiles: FileHost = {
  resolve, dirname, relative, isAbsolute, sep,
  absolute, displayName, realOrNone, shippedArchitecture,
  exists: (path) => existsSync(path),
  open: openChecked,
};

/** Parse one architecture from text or bytes, its `extends` bases read from the disk (index.ts's, with diskFiles). */
export function parseArchitecture(input: string | Uint8Array, opts: ParseOptions = {}): ParseResult {
  return parseText(input, { ...opts, files: opts.files ?? diskFiles });
}

/** Parse a file from disk; a missing or unreadable file is a diagnostic, not an exception. */
export function parseFile(path: string, opts: Omit<ParseOptions, 'file'> = {}): ParseResult {
  // `resnet50` (or a clone's architectures/resnet50.yaml, where there is none) is a shipped model.
  const located = locateArchitecture(path);
  path = located.path;
  if (located.shipped !== undefined) opts = { ...opts, extendsRoot: opts.extendsRoot ?? dirname(path) };
  const file = displayName(absolute(path));
  const refuse = (code: 'file-not-found' | 'file-too-large', message: string, hint: string): ParseResult => {
    const bag = new DiagnosticBag();
    bag.error(code, message, { file, line: 0, col: 0, endLine: 0, endCol: 0, offset: -1, endOffset: -1 }, hint);
    return { diagnostics: bag.items, dropped: 0, sources: new Map(), bag, skipped: [] };
  };
  const read = readArchitectureFile(path);
  if (!('bytes' in read)) return refuse(read.code, read.message, read.hint);
  return parseArchitecture(read.bytes, { ...opts, file });
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
 * The bytes of the architecture file a user named, or why not. It is opened once and checked on
 * what was opened (io's openRegular: a folder, a FIFO or a device is refused before a byte is
 * read, and /dev/zero or a FIFO would never end), its size is capped, and it is read from that
 * descriptor (a file replaced or moved meanwhile is never read instead). Never throws.
 */
export function readArchitectureFile(path: string): { bytes: Uint8Array } | FileRefusal {
  const refuse = (code: FileRefusal['code'], message: string, hint: string): FileRefusal => ({ code, message, hint });
  const opened = openRegular(path);
  if ('error' in opened) {
    const code = (opened.error as NodeJS.ErrnoException).code;
    return refuse('file-not-found', code === 'EISDIR' ? `"${path}" is a folder, not a file.` : `Cannot read "${path}" (${code ?? 'error'}).`, NOT_FOUND_HINT);
  }
  if ('notRegular' in opened) return refuse('file-not-found', opened.notRegular === 'a folder' ? `"${path}" is a folder, not a file.` : `"${path}" is not a regular file.`, NOT_FOUND_HINT);
  const { fd, stat } = opened;
  try {
    if (stat.size > READ_LIMITS.maxFileBytes) {
      return refuse('file-too-large', `The file is ${stat.size.toLocaleString('en-US')} bytes; the limit is ${READ_LIMITS.maxFileBytes.toLocaleString('en-US')}.`, 'Architecture files are a few KB: check that this is the right file.');
    }
    return { bytes: readAtMost(fd, stat.size, READ_CAP()) };
  } catch (err) {
    return refuse('file-not-found', `Cannot read "${path}" (${(err as NodeJS.ErrnoException).code ?? 'error'}).`, NOT_FOUND_HINT);
  } finally {
    closeSync(fd);
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
