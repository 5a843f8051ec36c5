/** Shared helpers for the bench children: architecture paths, peak RSS, the result line. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
export const arch = (name: string): string => join(ROOT, 'architectures', `${name}.yaml`);

/** VmHWM of this process in KiB (peak resident set). */
export function peakRssKiB(): number {
  const m = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : Math.round(process.memoryUsage().rss / 1024);
}

export function emit(result: unknown): void {
  console.log(`RESULT ${JSON.stringify(result)}`);
}

export function argValue(argv: string[], key: string, dflt?: string): string | undefined {
  const i = argv.indexOf(key);
  return i >= 0 ? argv[i + 1] : dflt;
}

/**
 * Above this 1-minute load average at the start of a comparison (BENCH_MAX_LOAD, default 0.5 on
 * this 2-core machine), no ratio against PyTorch is reported: with one other process on the
 * machine, two-thread PyTorch slowed from 0.1 s to 3.3 s a step while wasm (one thread) barely
 * moved (issue 18), so a busy machine makes any ratio meaningless.
 */
export const MAX_LOAD = Number(process.env.BENCH_MAX_LOAD ?? 0.5);

/** Why a ratio measured from this load is not reported, or undefined when the machine was idle enough. */
export function loadRefusal(loadAtStart: number, maxLoad = MAX_LOAD): string | undefined {
  if (loadAtStart <= maxLoad) return undefined;
  return `not reported: the load average was ${loadAtStart.toFixed(2)} at the start (above ${maxLoad}, BENCH_MAX_LOAD): the machine was busy`;
}
