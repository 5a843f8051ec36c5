/**
 * The page's files, as the parser's FileHost (src/parser/host.ts): the shipped architectures from
 * the bundle, found by base name in any folder (so `extends: resnet50.yaml` and `extends: resnet50`
 * work from every file the page shows), with POSIX paths rooted at "/". There is no disk: any
 * other path is missing. The compiler is given this host; nothing stands in for node:fs.
 */
import architectures from 'virtual:architectures';
import { POSIX_PATHS, type FileHost } from '../../src/parser/index.js';

const enc = new TextEncoder();
const FILES = new Map<string, Uint8Array>(architectures.map((a) => [`${a.name}.yaml`, enc.encode(a.text)]));
const fileOf = (path: string): Uint8Array | undefined => FILES.get(path.slice(path.lastIndexOf('/') + 1));
/** A name without an extension is a folder (every folder holds the shipped models). */
const isFolder = (path: string): boolean => !/\.[A-Za-z]+$/.test(path.slice(path.lastIndexOf('/') + 1));

export const playgroundFiles: FileHost = {
  ...POSIX_PATHS,
  displayName: (path) => path,
  realOrNone: (path) => (fileOf(path) || isFolder(path) ? [POSIX_PATHS.resolve(path)] : []),
  exists: (path) => fileOf(path) !== undefined,
  // Shipped models are found beside every file (by base name), never in a folder of their own.
  shippedArchitecture: () => undefined,
  open(path, root) {
    const real = POSIX_PATHS.resolve(path);
    if (root !== undefined) {
      const rel = POSIX_PATHS.relative(root, real);
      if (rel === '..' || rel.startsWith('../')) return { problem: 'outside' };
    }
    const bytes = fileOf(real);
    if (!bytes) return { problem: isFolder(real) ? 'not-a-file' : 'missing' };
    return { real, size: bytes.length, stamp: `0\0${bytes.length}`, read: () => bytes, close: () => undefined };
  },
};
