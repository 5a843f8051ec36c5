/**
 * Reading files that came from someone else (a model folder, a safetensors file) without trusting
 * them: only regular files are read (a FIFO, a device such as /dev/zero or a folder is refused
 * before a byte is read, and a FIFO never blocks the open), only up to a size fixed in advance,
 * and a file named by another file must resolve, symlinks followed, to a place inside its folder.
 */
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { UserError } from '../errors/index.js';

/** O_NONBLOCK: opening a FIFO for reading returns at once instead of waiting for a writer. */
export const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/** A path or name from a file, quoted for a message with control characters escaped. */
export const quote = (s: string): string => JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}...` : s);

/** The message of a file-system error: its code in words. */
export function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return FS_REASONS[code ?? ''] ?? (code ? `${code}` : (err as Error).message);
}

export const FS_REASONS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder',
  EEXIST: 'it already exists',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the file system',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  ENXIO: 'no such device',
  EBUSY: 'the file is busy',
  EXDEV: 'it is on another file system',
  ENOTEMPTY: 'the folder is not empty',
  EIO: 'input/output error',
};

/** What an opened path turned out to be, when it is not a regular file. */
export type NotRegular = 'a folder' | 'a FIFO' | 'a device' | 'a socket' | 'not a regular file';

/**
 * Opens `path` for reading and checks the opened file (not the name, which may change between a
 * check and an open): a regular file, with its descriptor and stat; or why not, never thrown:
 * the error of the open, or what else it is (a FIFO never blocks the open, READ_FLAGS). The
 * one implementation of these checks; openRegularFile words them as a UserError, the parser as
 * located diagnostics.
 */
export function openRegular(path: string): { fd: number; stat: Stats } | { error: unknown } | { notRegular: NotRegular } {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (error) {
    return { error };
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isFile()) return { fd, stat };
    closeSync(fd);
    return { notRegular: stat.isDirectory() ? 'a folder' : stat.isFIFO() ? 'a FIFO' : stat.isCharacterDevice() || stat.isBlockDevice() ? 'a device' : stat.isSocket() ? 'a socket' : 'not a regular file' };
  } catch (error) {
    closeSync(fd);
    return { error };
  }
}

/**
 * Opens `path` for reading and checks the opened file (openRegular): a regular file, or a
 * UserError naming `what`.
 */
export function openRegularFile(path: string, what = 'file'): { fd: number; size: number } {
  const r = openRegular(path);
  if ('error' in r) {
    if ((r.error as NodeJS.ErrnoException).code === undefined) throw r.error;
    throw new UserError(`cannot open ${what} ${path}: ${fsReason(r.error)}`);
  }
  if ('notRegular' in r) throw new UserError(`${what} ${path} is ${r.notRegular}, not a regular file`);
  return { fd: r.fd, size: r.stat.size };
}

/**
 * The bytes of an opened file to its end, but never more than `cap` (give the limit + 1, so that
 * a file that grew past its limit since its stat shows it by its length, and is not read whole).
 * `size` is what its stat said: the first read asks for one byte more, to see growth.
 */
export function readAtMost(fd: number, size: number, cap: number): Uint8Array {
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

/** Reads exactly `buf.length` bytes at `position`; false at an early end of file. */
export function readExactly(fd: number, buf: Uint8Array, position: number): boolean {
  let done = 0;
  while (done < buf.length) {
    const got = readSync(fd, buf, done, Math.min(buf.length - done, 1 << 30), position + done);
    if (got === 0) return false;
    done += got;
  }
  return true;
}

/** Whether anything follows `position` (a file that grew, or one whose size stat did not tell). */
function moreAfter(fd: number, position: number): boolean {
  return readSync(fd, Buffer.alloc(1), 0, 1, position) > 0;
}

/**
 * Reads a whole regular file of at most `maxBytes` (a file that says it is larger, or turns out
 * to be, is refused without reading past the limit).
 */
export function readCappedFile(path: string, maxBytes: number, what = 'file'): Buffer {
  const { fd, size } = openRegularFile(path, what);
  try {
    if (size > maxBytes) throw new UserError(`${what} ${path} is ${size} bytes, over the limit of ${maxBytes}`);
    const buf = Buffer.alloc(size);
    if (!readExactly(fd, buf, 0)) throw new UserError(`${what} ${path} ended before its ${size} bytes (it changed while being read)`);
    if (moreAfter(fd, size)) throw new UserError(`${what} ${path} is larger than the ${size} bytes it reports (it changed while being read, or is not an ordinary file)`);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a regular file that must hold exactly `bytes` bytes (the size another file declares for
 * it); a file of any other size is refused, and nothing past `bytes` is read.
 */
export function readExactFile(path: string, bytes: number, what = 'file'): Buffer {
  const { fd, size } = openRegularFile(path, what);
  try {
    if (size !== bytes) throw new UserError(`${what} ${path} is ${size} bytes, but ${bytes} are declared for it`);
    const buf = Buffer.alloc(bytes);
    if (!readExactly(fd, buf, 0) || moreAfter(fd, bytes)) throw new UserError(`${what} ${path} does not hold the ${bytes} bytes declared for it (it changed while being read, or is not an ordinary file)`);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/**
 * The real path of `name` (from a file in `folder`) when it lies inside `folder` once every
 * symlink is followed; a UserError otherwise. Absolute names, `..` out of the folder and
 * symlinks that lead out are refused alike.
 */
export function insideFolder(folder: string, name: string, what: string): string {
  if (name.length === 0 || name.includes('\0')) throw new UserError(`${what} names the path ${quote(name)}, which is not a file name`);
  if (isAbsolute(name)) throw new UserError(`${what} names the absolute path ${quote(name)}: only files inside the model folder are read`);
  let root: string;
  try {
    root = realpathSync(folder);
  } catch (e) {
    throw new UserError(`cannot read the folder ${folder}: ${fsReason(e)}`);
  }
  if (!liesInside(root, join(root, name))) {
    throw new UserError(`${what} names ${quote(name)}, which is outside the model folder ${folder}`);
  }
  let real: string;
  try {
    real = realpathSync(join(root, name));
  } catch (e) {
    throw new UserError(`${what} names ${quote(name)}, which cannot be read: ${fsReason(e)}`);
  }
  if (!liesInside(root, real)) {
    throw new UserError(`${what} names ${quote(name)}, which links to a file outside the model folder ${folder}`);
  }
  return real;
}

/**
 * Whether `path` lies inside `folder` (the folder itself does not): `..` out of it, another
 * drive or the folder itself is not. Both absolute; real paths where links must not lead out.
 */
export function liesInside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return !(rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel));
}
