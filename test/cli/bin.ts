/**
 * Runs the real command line (`node bin/skipgraph.js ...`) as a child process. bin/ loads dist/,
 * so `ensureDist()` rebuilds dist/ with tsc when any file under src/ is newer than it (once per
 * test run; a lock folder keeps parallel test files from building at the same time).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const repoRoot = new URL('../../', import.meta.url).pathname;
export const bin = join(repoRoot, 'bin/skipgraph.js');
const stamp = join(repoRoot, 'dist/cli/main.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (/\.(ts|js)$/.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs); // .js: src/parser/generated/
  }
  return newest;
}

const fresh = () => existsSync(stamp) && statSync(stamp).mtimeMs >= newestSource(join(repoRoot, 'src'));

/** Builds dist/ if it is missing or older than src/. Type errors elsewhere (src/targets/tfjs) do not stop the emit. */
export async function ensureDist(): Promise<void> {
  if (fresh()) return;
  const lock = join(repoRoot, 'dist/.test-build-lock');
  mkdirSync(join(repoRoot, 'dist'), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 200));
      if (fresh()) return;
    }
  }
  try {
    if (fresh()) return;
    try {
      execFileSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', join(repoRoot, 'tsconfig.build.json')], { cwd: repoRoot, stdio: 'pipe' });
    } catch {
      // tsc exits 2 on type errors but still writes dist/; the stamp check below is what matters.
    }
    if (!existsSync(stamp)) throw new Error('tsc did not produce dist/cli/main.js');
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface BinResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time of the whole process, start to exit. */
  ms: number;
}

/** `node bin/skipgraph.js ...args` in the repository root; killed (code null) after `killAfterMs` when given. */
export function runBin(args: readonly string[], cwd = repoRoot, killAfterMs?: number): Promise<BinResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } });
    if (killAfterMs !== undefined) {
      const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      child.on('exit', () => clearTimeout(timer));
    }
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - t0 }));
  });
}

/** Runs `jobs` with at most `n` at a time; results in input order. */
export async function pool<T, R>(items: readonly T[], n: number, job: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await job(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

/** A stack frame line as Node prints it ("    at fn (file:1:2)"). */
export const STACK_FRAME = /^\s{4}at /m;
