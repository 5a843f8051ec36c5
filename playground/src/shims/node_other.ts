/** node:crypto, node:module and node:os for the browser build: present so imports resolve, never called. */
function unavailable(name: string): never {
  throw new Error(`${name} is not available in the playground`);
}
export const createHash = (): never => unavailable('createHash');
export const randomBytes = (): never => unavailable('randomBytes');
export const createRequire = (): never => unavailable('createRequire');
export const tmpdir = (): string => '/tmp';
export default { createHash, randomBytes, createRequire, tmpdir };
