/**
 * The lines both engines print: the epoch line and the progress line (what a run without a
 * terminal prints instead of the bar). One formatter, so `--engine tfjs` and `--engine torch`
 * print the same text for the same record.
 */
import type { BatchStats, EpochRecord } from './record.js';

/** A number, or 'n/a' where the trainer sent null (a non-finite value). */
const fixed = (v: number | null | undefined, digits: number, scale = 1) => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : (v * scale).toFixed(digits));

/** `epoch 3/10: loss 0.4321 acc 85.00% | held-out loss ... | [EMA acc ...% | ]12.3 s, 456 img/s`. */
export function epochLine(r: EpochRecord, epochs: number): string {
  return (
    `epoch ${r.epoch}/${epochs}: loss ${fixed(r.loss, 4)} acc ${fixed(r.acc, 2, 100)}% | ` +
    `held-out loss ${fixed(r.valLoss, 4)} acc ${fixed(r.valAcc, 2, 100)}% top-5 ${fixed(r.valTop5, 2, 100)}% | ` +
    (r.emaValAcc !== undefined && r.emaValAcc !== null ? `EMA acc ${fixed(r.emaValAcc, 2, 100)}% | ` : '') +
    `${fixed(r.seconds, 1)} s, ${fixed(r.imagesPerSecond, 0)} img/s`
  );
}

/** Seconds as 1h02m03s, 2m03s or 3s. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}h${pad(m)}m${pad(s % 60)}s` : m > 0 ? `${m}m${pad(s % 60)}s` : `${s}s`;
}

/**
 * `epoch 2/10 step 130/500 (batch 30/50): loss 1.2345 acc 56.7% | lr 0.0812 | 512 img/s | eta 3m12s`:
 * the progress line, from the run's step counts (ETA: the steps left at this epoch's pace).
 */
export function progressLine(epoch: number, epochs: number, done: number, batches: number, s: BatchStats, secondsPerStep: number): string {
  const where = s.step !== undefined && s.steps !== undefined ? `step ${s.step}/${s.steps} (batch ${done}/${batches})` : `batch ${done}/${batches}`;
  const left = s.step !== undefined && s.steps !== undefined ? s.steps - s.step : (epochs - epoch + 1) * batches - done;
  return (
    `epoch ${epoch}/${epochs} ${where}: loss ${fixed(s.loss, 4)} acc ${fixed(s.acc, 1, 100)}% | ` +
    (s.lr !== undefined ? `lr ${s.lr === null ? 'n/a' : Number(s.lr.toPrecision(4))} | ` : '') +
    `${fixed(s.imagesPerSecond, 0)} img/s | eta ${formatDuration(left * secondsPerStep)}`
  );
}
