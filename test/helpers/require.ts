/**
 * The one place that decides what a test does when something outside node_modules' hard
 * dependencies is missing (PyTorch, Debian's onnx, onnxruntime-node, chromium, a TF.js backend,
 * Mesa): a developer's plain `npm test` skips and says why, once per run and dependency;
 * under SKIPGRAPH_REQUIRE_ALL=1 (set by .ci/run) the test fails instead, naming what is missing,
 * so that a green CI cannot mean that a cross-target comparison never ran.
 *
 * Two forms, for the two ways a suite skips:
 * - at collection: `describe.skipIf(skipWithout('torch target', why))(...)`, where `why` is
 *   undefined when the dependency is there; under the variable it throws, which fails the file;
 * - inside a test: `skipTestWithout(ctx, 'onnxruntime', why)` calls ctx.skip() or throws.
 * The probes below (`torchMissing`, `ortMissing`, ...) return that `why`.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPython } from '../parity/fixtures.js';

/** The variable under which a missing dependency fails instead of skipping. */
export const REQUIRE_ALL = 'SKIPGRAPH_REQUIRE_ALL';

/** Whether missing dependencies fail (SKIPGRAPH_REQUIRE_ALL=1) rather than skip. */
export function requireAll(env: Record<string, string | undefined> = process.env): boolean {
  return env[REQUIRE_ALL] === '1';
}

/** Thrown under SKIPGRAPH_REQUIRE_ALL=1 where a suite would have skipped. */
export class MissingDependencyError extends Error {
  constructor(what: string, why: string) {
    super(`${what}: ${why}; ${REQUIRE_ALL}=1 makes this a failure instead of a skip (install it, or unset ${REQUIRE_ALL} to skip)`);
    this.name = 'MissingDependencyError';
  }
}

/** One stderr line per run (across vitest's worker processes) and reason. */
function announce(what: string, why: string): void {
  const key = `${what}: ${why}`.replace(/[^A-Za-z0-9]+/g, '_').slice(0, 120);
  try {
    closeSync(openSync(join(tmpdir(), `skipgraph-skip-${process.ppid}-${key}`), 'wx'));
  } catch {
    return; // said already
  }
  process.stderr.write(`${what} skipped: ${why}\n`);
}

/**
 * Whether to skip `what` (a suite's name) for lack of a dependency: false when `why` is
 * undefined; otherwise true, after saying so; under SKIPGRAPH_REQUIRE_ALL=1 it throws.
 */
export function skipWithout(what: string, why: string | undefined, env: Record<string, string | undefined> = process.env): boolean {
  if (why === undefined) return false;
  if (requireAll(env)) throw new MissingDependencyError(what, why);
  announce(what, why);
  return true;
}

/** Inside a test: returns when `why` is undefined, else skips the test (or fails it under the variable). */
export function skipTestWithout(ctx: { skip(): void }, what: string, why: string | undefined): void {
  if (skipWithout(what, why)) ctx.skip();
}

// ---- Probes: each returns why the dependency is missing, or undefined when it is there.

/** A Python with torch and torchvision (test/parity/fixtures.ts's search: $SKIPGRAPH_PYTHON, /usr/bin/python3, python3). */
export function torchMissing(): string | undefined {
  const found = findPython();
  return 'skip' in found ? found.skip : undefined;
}

/** The Python that has torch, or undefined (pair it with torchMissing()). */
export function torchPythonPath(): string | undefined {
  const found = findPython();
  return 'python' in found ? found.python : undefined;
}

/** `python -c "import <modules>"`. */
export function pythonModulesMissing(python: string, modules: string[], apt: string): string | undefined {
  const r = spawnSync(python, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8', timeout: 60_000 });
  if (r.status === 0) return undefined;
  const why = r.error ? ((r.error as NodeJS.ErrnoException).code ?? r.error.message) : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`);
  return `${python} cannot import ${modules.join(', ')} (apt-get install ${apt}): ${why}`;
}

/** An optional npm package, imported; the module or why it does not load. */
export async function importOptional<T>(pkg: string): Promise<{ module: T } | { why: string }> {
  const specifier: string = pkg; // a variable: TypeScript need not resolve it
  try {
    return { module: (await import(specifier)) as T };
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === 'ERR_MODULE_NOT_FOUND' ? 'is not installed' : `does not load (${(e as Error).message.split('\n')[0]})`;
    return { why: `${pkg} ${why}` };
  }
}

export type Ort = typeof import('onnxruntime-node');

/** onnxruntime-node (its native binary included), or why it cannot run. */
export async function loadOnnxRuntime(): Promise<{ module: Ort } | { why: string }> {
  return importOptional<Ort>('onnxruntime-node');
}

/** Debian's chromium, which playwright-core drives. */
export function chromiumMissing(path = '/usr/bin/chromium'): string | undefined {
  return existsSync(path) ? undefined : `${path} not found (apt-get install chromium)`;
}

/** A TF.js backend (`wasm`, `cpu`, ...), selected for this process; why it cannot be, otherwise. */
export async function backendMissing(choice: string): Promise<string | undefined> {
  const { selectBackend } = await import('../../src/targets/tfjs/backend.js');
  try {
    await selectBackend({ force: choice });
    return undefined;
  } catch (e) {
    return `the TF.js ${choice} backend cannot start: ${(e as Error).message.split('\n')[0]}`;
  }
}
