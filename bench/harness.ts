/**
 * What every bench case of bench/run.ts shares: the options of the run, the log, timing a whole
 * process, reading a child's result line, building dist/, and the machine's description.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './common.js';
import type { LoadAverage, Machine } from './results.js';

/** Debian's torch lives in /usr/bin/python3. */
export const PY = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** The options every case gets. */
export interface BenchContext {
  /** `--quick`: fewer repetitions. */
  quick: boolean;
  log: (msg: string) => void;
}

export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** The load averages now, rounded to 2 decimals. */
export const loadNow = (): LoadAverage => loadavg().map((v) => Math.round(v * 100) / 100);

/** Wall seconds of one process, which must exit 0 (its stdout is dropped). */
export function wall(cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return s;
}

export function buildDist(): void {
  log('building dist (npx tsc -p tsconfig.build.json)');
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
}

/**
 * The result a child prints (a `RESULT {...}` line, or a line of JSON), as the type its caller
 * names: the child's own output, checked only by use.
 */
export function child<T>(cmd: string, args: string[]): T {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT ') || l.startsWith('{'));
  if (r.status !== 0 || !line) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr.slice(-2000)}`);
  return JSON.parse(line.replace(/^RESULT /, '')) as T;
}

/** A TypeScript child under bench/, run through tsx. */
export const tsChild = <T>(script: string, args: string[]): T => child<T>('node', ['--import', 'tsx', `bench/${script}`, ...args]);

export function machine(quick: boolean): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const memKiB = Number(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? totalmem() / 1024);
  const pkg = (name: string): string => (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  let torch = 'not found';
  try {
    torch = execFileSync(PY, ['-c', 'import torch, torchvision; print(torch.__version__, torchvision.__version__)'], { encoding: 'utf8' }).trim();
  } catch { /* reported as not found */ }
  return {
    cores: cpus().length,
    cpuModel: model,
    memoryGiB: Math.round((memKiB / 2 ** 20) * 10) / 10,
    node: process.version,
    tfjs: pkg('@tensorflow/tfjs'),
    tfjsWasm: pkg('@tensorflow/tfjs-backend-wasm'),
    torch,
    loadAverageStart: loadNow(),
    loadAverageEnd: [],
    date: new Date().toISOString(),
    quick,
  };
}
