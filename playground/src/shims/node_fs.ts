/**
 * The browser build's stand-in for node:fs (esbuild maps `node:fs` here). The page compiles text,
 * never files: the parser's file paths (extends, realpath) find nothing, and the one file it reads
 * at load time, the schema, comes from the bundle.
 */
import schema from '../../../schemas/architecture.schema.json';

const BUNDLED: Record<string, string> = { 'architecture.schema.json': JSON.stringify(schema) };

function enoent(path: unknown): Error {
  return Object.assign(new Error(`ENOENT: the playground reads no files (${String(path)})`), { code: 'ENOENT' });
}

export function readFileSync(path: string | URL): string {
  const name = String(path).split('/').pop() ?? '';
  if (name in BUNDLED) return BUNDLED[name];
  throw enoent(path);
}
export const existsSync = (): boolean => false;
export function realpathSync(path: string): string {
  throw enoent(path);
}
export function statSync(path: string): never {
  throw enoent(path);
}
export const fstatSync = statSync;
export const openSync = statSync;
export function readSync(): number {
  return 0;
}
export function closeSync(): void {}
export const constants = { O_RDONLY: 0, O_NOFOLLOW: 0 };
export type Stats = never;
export default { readFileSync, existsSync, realpathSync, statSync, fstatSync, openSync, readSync, closeSync, constants };
