/**
 * The browser build's stand-in for node:fs (esbuild maps `node:fs` here). The page reads no disk:
 * its files are the shipped architectures (by base name, so `extends: resnet50.yaml` works from
 * any of them) and the schema, all from the bundle; any other path is ENOENT.
 */
import architectures from 'virtual:architectures';
import schema from '../../../schemas/architecture.schema.json' with { type: 'json' };

const enc = new TextEncoder();
const FILES = new Map<string, Uint8Array>(architectures.map((a) => [`${a.name}.yaml`, enc.encode(a.text)]));
const SCHEMA = JSON.stringify(schema);

function enoent(path: unknown): Error {
  return Object.assign(new Error(`ENOENT: no such file in the playground: ${String(path)}`), { code: 'ENOENT' });
}
const base = (p: string | URL) => String(p).split('/').pop() ?? '';
const isDir = (p: string) => !/\.[A-Za-z]+$/.test(base(p));
const fileOf = (p: string) => FILES.get(base(p));

export function readFileSync(path: string | URL, enc?: string): string | Uint8Array {
  if (base(path) === 'architecture.schema.json') return SCHEMA;
  const f = fileOf(String(path));
  if (!f) throw enoent(path);
  return enc ? new TextDecoder().decode(f) : f;
}
export const existsSync = (p: string): boolean => isDir(p) || fileOf(p) !== undefined;
/** Every folder holds the shipped architectures (the parser's shipped-model table lists them by name). */
export const readdirSync = (): string[] => [...FILES.keys()].sort();
export function realpathSync(p: string): string {
  if (existsSync(p)) return p;
  throw enoent(p);
}
interface FakeStats {
  size: number;
  mtimeMs: number;
  isFile(): boolean;
  isDirectory(): boolean;
}
function stats(p: string): FakeStats {
  const f = fileOf(p);
  if (!f && !isDir(p)) throw enoent(p);
  return { size: f?.length ?? 0, mtimeMs: 0, isFile: () => !!f, isDirectory: () => !f };
}
export const statSync = stats;
export const lstatSync = stats;
const fds = new Map<number, { path: string; at: number }>();
let nextFd = 100;
export function openSync(p: string): number {
  if (!fileOf(p)) throw Object.assign(enoent(p), isDir(p) ? { code: 'EISDIR' } : {});
  fds.set(nextFd, { path: p, at: 0 });
  return nextFd++;
}
export function fstatSync(fd: number): FakeStats {
  const o = fds.get(fd);
  if (!o) throw enoent(fd);
  return stats(o.path);
}
export function readSync(fd: number, buf: Uint8Array, offset = 0, length = buf.length - offset, position: number | null = null): number {
  const o = fds.get(fd);
  if (!o) throw enoent(fd);
  const f = fileOf(o.path)!;
  const from = position ?? o.at;
  const n = Math.max(0, Math.min(length, f.length - from));
  buf.set(f.subarray(from, from + n), offset);
  if (position === null) o.at += n;
  return n;
}
export function closeSync(fd: number): void {
  fds.delete(fd);
}
export const constants = { O_RDONLY: 0, O_NONBLOCK: 0, O_NOFOLLOW: 0 };
export type Stats = FakeStats;
export default { readFileSync, existsSync, realpathSync, statSync, lstatSync, openSync, fstatSync, readSync, closeSync, constants };
