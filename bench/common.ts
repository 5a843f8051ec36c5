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
