import cliProgress from 'cli-progress';

export interface BatchStats {
  loss: number;
  acc: number;
  imagesPerSecond: number;
}

/** What the trainer reports while it runs; the CLI draws a bar, tests and scripts may listen. */
export interface TrainProgress {
  epochStart(epoch: number, epochs: number, batches: number): void;
  batch(done: number, stats: BatchStats): void;
  epochEnd(): void;
}

/** A cli-progress bar per epoch on `stream` (stderr), drawn only when it is a terminal. */
export function progressBar(stream: NodeJS.WriteStream = process.stderr): TrainProgress {
  let bar: cliProgress.SingleBar | undefined;
  return {
    epochStart(epoch, epochs, batches) {
      bar = new cliProgress.SingleBar(
        {
          stream,
          format: `epoch ${epoch}/${epochs} [{bar}] {value}/{total} | loss {loss} | acc {acc} | {ips} img/s | eta {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(batches, 0, { loss: '-', acc: '-', ips: '-' });
    },
    batch(done, s) {
      bar?.update(done, { loss: s.loss.toFixed(4), acc: `${(100 * s.acc).toFixed(1)}%`, ips: s.imagesPerSecond.toFixed(0) });
    },
    epochEnd() {
      bar?.stop();
      bar = undefined;
    },
  };
}

export const silentProgress: TrainProgress = { epochStart() {}, batch() {}, epochEnd() {} };
