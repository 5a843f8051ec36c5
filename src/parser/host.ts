/**
 * What the parser asks of a file system, as an interface: `extends` opens its bases through it,
 * and diagnostics name files through it. The parser itself opens nothing, so it runs unchanged in
 * a browser. Node's host, over the disk, is `diskFiles` in files.ts (the one file that opens
 * files); the playground's serves the shipped models from its bundle; NO_FILES has no files.
 */
import { dirname, isAbsolute, relative, resolve, sep } from './posix.js';

/** Why a base file was not opened: not there, not a regular file, or (its real path) outside its folder. */
export type OpenProblem = 'missing' | 'not-a-file' | 'outside';

/** A file opened and checked: read from what was opened, never from the path again. */
export interface OpenedFile {
  /** The real path (every link followed): what a cycle in `extends` is recognised by. */
  real: string;
  size: number;
  /** Changes when the file does (modification time and size): part of the parsed-base cache's key. */
  stamp: string;
  /** The bytes, never more than the parser's file limit + 1 (a file that grew is refused by its size). */
  read(): Uint8Array;
  close(): void;
}

export interface FileHost {
  /** Path arithmetic on this host's paths. */
  resolve(...paths: string[]): string;
  dirname(path: string): string;
  relative(from: string, to: string): string;
  isAbsolute(path: string): boolean;
  sep: string;
  /** `path` made absolute; as given where that cannot be done. */
  absolute(path: string): string;
  /** The name diagnostics use for `path`. */
  displayName(path: string): string;
  /** The real path of `path` as a one-item chain; none when it does not exist. */
  realOrNone(path: string): string[];
  /** Whether a file is there (a base named by a bare name is local when its file is). */
  exists(path: string): boolean;
  /** The path of the shipped model `name` (resnet50), if there is one. */
  shippedArchitecture(name: string): string | undefined;
  /**
   * Opens `path` once and checks what was opened: a regular file and (with `root`) one whose
   * real path lies inside `root`. Never throws; the caller closes what it gets.
   */
  open(path: string, root?: string): OpenedFile | { problem: OpenProblem };
}

/** POSIX path arithmetic rooted at "/", for hosts without a working folder. */
export const POSIX_PATHS = { resolve: (...p: string[]) => resolve('/', ...p), dirname, relative, isAbsolute, sep, absolute: (p: string) => resolve('/', p) };

/**
 * A host without files: parsing text alone. `extends` finds nothing to open (extends-not-found),
 * and names are shown as given.
 */
export const NO_FILES: FileHost = {
  ...POSIX_PATHS,
  displayName: (path) => path,
  realOrNone: () => [],
  exists: () => false,
  shippedArchitecture: () => undefined,
  open: () => ({ problem: 'missing' }),
};
