/** The browser build's stand-in for node:path: POSIX paths rooted at "/" (the page has no cwd). */
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
export function resolve(...paths: string[]): string {
  let parts: string[] = [];
  for (const p of paths) parts = p.startsWith('/') ? p.split('/') : [...parts, ...p.split('/')];
  return normalize(parts);
}
export const join = (...paths: string[]): string => normalize(paths.join('/').split('/')).slice(paths[0]?.startsWith('/') ? 0 : 1) || '.';
export const isAbsolute = (p: string): boolean => p.startsWith('/');
export function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? (p.startsWith('/') ? '/' : '.') : p.slice(0, i);
}
export const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
export function extname(p: string): string {
  const b = basename(p);
  const i = b.lastIndexOf('.');
  return i <= 0 ? '' : b.slice(i);
}
export function relative(from: string, to: string): string {
  const a = resolve(from).split('/').filter(Boolean);
  const b = resolve(to).split('/').filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return [...a.slice(i).map(() => '..'), ...b.slice(i)].join('/');
}
export default { sep, resolve, join, isAbsolute, dirname, basename, extname, relative };
