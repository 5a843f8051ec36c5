import type { DiagnosticBag, Loc } from '../parser/index.js';

/**
 * Resource limits, checked on the compiled graph before any tensor exists. The defaults admit
 * every published ResNet with room to spare and refuse what would exhaust memory.
 */
export interface Limits {
  /** Blocks after expansion, checked before expanding (10,000-block sweeps fit). */
  maxBlocks: number;
  /** Nodes in the compiled graph. */
  maxNodes: number;
  /** Trainable + non-trainable parameters (1e9 float32 = 4 GB of weights). */
  maxParams: number;
  /**
   * Bytes of forward activations (float32 output of every node) for a batch of `batch` samples
   * (CompileOptions.batch, --batch; default DEFAULT_BATCH). 16 GiB by default.
   */
  maxActivationBytes: number;
}

/** The batch size the activation-memory estimate assumes unless told otherwise. */
export const DEFAULT_BATCH = 32;

export const DEFAULT_LIMITS: Limits = {
  maxBlocks: 20_000,
  maxNodes: 400_000,
  maxParams: 1_000_000_000,
  maxActivationBytes: 16 * 2 ** 30,
};

/** The CLI flag that raises each limit, named in the error. */
export const LIMIT_FLAGS: Record<keyof Limits, string> = {
  maxBlocks: '--max-blocks',
  maxNodes: '--max-nodes',
  maxParams: '--max-params',
  maxActivationBytes: '--max-activation-bytes',
};

/** 1.5 GiB, 143.28 MiB, 512 B: binary units, as the table printer shows memory. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(2)} ${units[i]}`;
}

/**
 * Activation memory for a batch: per-sample bytes x batch, against maxActivationBytes. The message
 * says what was estimated and how, and which flags change it.
 */
export function checkActivationMemory(perSample: number, batch: number, limits: Limits, loc: Loc, bag: DiagnosticBag): boolean {
  const estimate = perSample * batch;
  if (estimate <= limits.maxActivationBytes) return true;
  bag.error(
    'limit-exceeded',
    `Activation memory for a batch of ${batch}: an estimated ${formatBytes(estimate)} (${formatBytes(perSample)} of float32 forward activations per sample x ${batch}), over the limit of ${formatBytes(limits.maxActivationBytes)}.`,
    loc,
    `If this is intended, raise it with ${LIMIT_FLAGS.maxActivationBytes} (API: limits.maxActivationBytes), or estimate for a smaller batch with --batch (API: batch).`,
  );
  return false;
}

export function checkLimit(key: keyof Limits, estimate: number, limits: Limits, what: string, loc: Loc, bag: DiagnosticBag): boolean {
  if (estimate <= limits[key]) return true;
  bag.error(
    'limit-exceeded',
    `${what}: ${estimate.toLocaleString('en-US')}, over the limit of ${limits[key].toLocaleString('en-US')}.`,
    loc,
    `If this is intended, raise it with ${LIMIT_FLAGS[key]} (API: limits.${key}).`,
  );
  return false;
}
