import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Writes `data` to `path` via a temporary sibling and a rename, so readers see the old or the new file, never half of one.
 * The temporary is created exclusively and never through a link, and the rename replaces the name
 * itself: a link at `path` is replaced, never written through. For files inside a folder skipgraph
 * owns (a run folder, a checkpoint); a path the user named goes through output_policy.ts.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o666);
    try {
      writeFileSync(fd, data);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
