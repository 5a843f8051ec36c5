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
   * Bytes of forward activations (float32 output of every node, the input included) for a batch
   * of `batch` samples (CompileOptions.batch, --batch; default DEFAULT_BATCH). 16 GiB by default;
   * compile only warns over it unless it was set explicitly (see checkActivationMemory).
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
 * Activation memory, a reported figure (per sample and at the chosen batch, in every summary) and
 * a check. Compiling allocates nothing, so by default a batch over the limit is a warning; it is an
 * error when the user set the limit (`--max-activation-bytes`, limits.maxActivationBytes) or when
 * one sample alone is over it (nothing could ever be built or run). Building and training refuse
 * for the real batch (runtime buildModel, sized with its `batch`).
 */
export function checkActivationMemory(perSample: number, batch: number, limits: Limits, loc: Loc, bag: DiagnosticBag, opts: { explicit?: boolean; sets?: readonly string[] } = {}): boolean {
  const estimate = perSample * batch;
  if (estimate <= limits.maxActivationBytes) return true;
  const hard = opts.explicit === true || perSample > limits.maxActivationBytes;
  const setBy = setNote(loc, opts.sets);
  bag.add({
    code: 'limit-exceeded',
    severity: hard ? 'error' : 'warning',
    message: `Activation memory for a batch of ${batch}: an estimated ${formatBytes(estimate)} (${formatBytes(perSample)} of float32 forward activations per sample x ${batch}), over the limit of ${formatBytes(limits.maxActivationBytes)}${setBy}.`,
    loc,
    hint: hard
      ? `If this is intended, raise it with ${LIMIT_FLAGS.maxActivationBytes} (API: limits.maxActivationBytes), or estimate for a smaller batch with --batch (API: batch).`
      : `Compiling allocates nothing, so this is a warning; building or training refuses it for the batch it really runs. Pass ${LIMIT_FLAGS.maxActivationBytes} (API: limits.maxActivationBytes) to make it an error, or --batch (API: batch) to estimate for another batch.`,
  });
  return !hard;
}

/** ` (set by --set input.height=320)` for a location in a `--set` argument, else ''. */
function setNote(loc: Loc, sets: readonly string[] | undefined): string {
  const m = /^--set\[(\d+)\]$/.exec(loc.file);
  if (!m) return '';
  const arg = sets?.[Number(m[1]) - 1];
  return arg === undefined ? ` (set by ${loc.file})` : ` (set by --set ${arg})`;
}

/**
 * The place to blame for a figure that a `--set` changed: the first candidate location that lies
 * in a `--set` argument (`--set[1]`), else `fallback` (the base file's line).
 */
export function blameSet(fallback: Loc, candidates: Iterable<Loc | undefined>): Loc {
  for (const l of candidates) if (l && l.file.startsWith('--set')) return l;
  return fallback;
}

export function checkLimit(key: keyof Limits, estimate: number, limits: Limits, what: string, loc: Loc, bag: DiagnosticBag, sets?: readonly string[]): boolean {
  if (estimate <= limits[key]) return true;
  const setBy = setNote(loc, sets);
  bag.error(
    'limit-exceeded',
    `${what}: ${estimate.toLocaleString('en-US')}, over the limit of ${limits[key].toLocaleString('en-US')}${setBy}.`,
    loc,
    `If this is intended, raise it with ${LIMIT_FLAGS[key]} (API: limits.${key}).`,
  );
  return false;
}
