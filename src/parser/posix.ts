/**
 * POSIX path arithmetic on strings, for the hosts that have no node:path (the browser's, the one
 * without files): absolute paths start with "/", and there is no working folder (a relative
 * path is resolved against "/"). Written here rather than taken from a package: five functions,
 * and the parser takes no dependency for them.
 */
export const sep = '/';

function normalize(parts: string[]): string {
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return '/' + out.join('/');
}

/** The absolute path of the last absolute path among `paths` joined with those after it. */
export function resolve(...paths: string[]): string {
  let parts: string[] = [];
  for (const p of paths) parts = p.startsWith('/') ? p.split('/') : [...parts, ...p.split('/')];
  return normalize(parts);
}

export const isAbsolute = (p: string): boolean => p.startsWith('/');

export function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? (p.startsWith('/') ? '/' : '.') : p.slice(0, i);
}

export const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

/** The path from `from` to `to`, both resolved; '' when they are the same. */
export function relative(from: string, to: string): string {
  const a = resolve(from).split('/').filter(Boolean);
  const b = resolve(to).split('/').filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return [...a.slice(i).map(() => '..'), ...b.slice(i)].join('/');
}
