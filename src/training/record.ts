/**
 * The training protocol both engines share: what one epoch reports (EpochRecord), what a step
 * reports while it runs (BatchStats) and who listens (TrainProgress). The TF.js engine fills
 * them in this process; the PyTorch trainer sends them as `@skipgraph` events (null for a
 * non-finite number) and src/targets/torch/train.ts hands them on unchanged.
 */

/** One epoch of the history (history.json of either engine). */
export interface EpochRecord {
  epoch: number;
  /** Training loss and top-1 over the epoch's samples. */
  loss: number;
  acc: number;
  /** Held-out loss, top-1 and top-5 after the epoch. */
  valLoss: number;
  valAcc: number;
  valTop5?: number;
  /** The rate at the epoch's first step. */
  lr?: number;
  /** Held-out loss and top-1 of the weight EMA (--ema). */
  emaValLoss?: number;
  emaValAcc?: number;
  seconds: number;
  imagesPerSecond: number;
  /** Set on an epoch cut short (--max-steps): the steps it ran. */
  steps?: number;
}

/** What a step reports. `step`/`steps` count optimizer steps of the whole run (for the ETA). */
export interface BatchStats {
  loss: number;
  acc: number;
  imagesPerSecond: number;
  lr?: number;
  step?: number;
  steps?: number;
}

/** What a trainer reports while it runs; the CLI draws a bar or prints lines, tests may listen. */
export interface TrainProgress {
  epochStart(epoch: number, epochs: number, batches: number): void;
  batch(done: number, stats: BatchStats): void;
  epochEnd(): void;
}

export const silentProgress: TrainProgress = { epochStart() {}, batch() {}, epochEnd() {} };
