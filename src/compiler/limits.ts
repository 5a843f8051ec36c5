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
}

export const DEFAULT_LIMITS: Limits = {
  maxBlocks: 20_000,
  maxNodes: 400_000,
  maxParams: 1_000_000_000,
};

/** The CLI flag that raises each limit, named in the error. */
export const LIMIT_FLAGS: Record<keyof Limits, string> = {
  maxBlocks: '--max-blocks',
  maxNodes: '--max-nodes',
  maxParams: '--max-params',
};

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
