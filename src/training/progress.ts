/**
 * Progress for both engines: a cli-progress bar on a terminal; elsewhere (a pipe, nohup, CI, a
 * cluster scheduler) one progressLine every `every` (N steps or N seconds, default 30 s), so a
 * log never goes quiet for long.
 */
import cliProgress from 'cli-progress';
import { progressLine } from './format.js';
import type { TrainProgress } from './record.js';

/** `--progress-every`: 'N' steps or 'Ns' seconds. */
export type ProgressEvery = { steps: number } | { seconds: number };

export const DEFAULT_PROGRESS_EVERY: ProgressEvery = { seconds: 30 };

/** Parses `--progress-every` ('50' steps, '10s' seconds); undefined when it is not one. */
export function parseProgressEvery(v: string): ProgressEvery | undefined {
  const m = /^(\d+(?:\.\d+)?)(s?)$/.exec(v.trim());
  if (!m || !(Number(m[1]) > 0)) return undefined;
  return m[2] === 's' ? { seconds: Number(m[1]) } : Number.isSafeInteger(Number(m[1])) ? { steps: Number(m[1]) } : undefined;
}

/**
 * A cli-progress bar per epoch on `stream` (stderr) when it is a terminal; else progress lines
 * through `write` (default: onto the stream).
 */
export function progressBar(
  stream: NodeJS.WriteStream = process.stderr,
  every: ProgressEvery = DEFAULT_PROGRESS_EVERY,
  write: (line: string) => void = (line) => stream.write(line + '\n'),
): TrainProgress {
  return stream.isTTY ? terminalBar(stream) : progressLines(write, every);
}

function terminalBar(stream: NodeJS.WriteStream): TrainProgress {
  let bar: cliProgress.SingleBar | undefined;
  return {
    epochStart(epoch, epochs, batches) {
      bar = new cliProgress.SingleBar(
        {
          stream,
          format: `epoch ${epoch}/${epochs} [{bar}] {value}/{total} | loss {loss} | acc {acc} | lr {lr} | {ips} img/s | eta {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(batches, 0, { loss: '-', acc: '-', lr: '-', ips: '-' });
    },
    batch(done, s) {
      bar?.update(done, { loss: s.loss.toFixed(4), acc: `${(100 * s.acc).toFixed(1)}%`, lr: s.lr === undefined ? '-' : Number(s.lr.toPrecision(4)), ips: s.imagesPerSecond.toFixed(0) });
    },
    epochEnd() {
      bar?.stop();
      bar = undefined;
    },
  };
}

/** Progress as lines through `write`: every `every` steps or seconds (and never for an idle epoch). */
export function progressLines(write: (line: string) => void, every: ProgressEvery = DEFAULT_PROGRESS_EVERY, now: () => number = () => performance.now()): TrainProgress {
  let epoch = 0;
  let epochs = 0;
  let batches = 0;
  let t0 = 0;
  let last = 0;
  let lastDone = 0;
  return {
    epochStart(e, n, b) {
      [epoch, epochs, batches] = [e, n, b];
      t0 = last = now();
      lastDone = 0;
    },
    batch(done, s) {
      const t = now();
      const due = 'steps' in every ? done - lastDone >= every.steps : t - last >= every.seconds * 1000;
      if (!due) return;
      last = t;
      lastDone = done;
      write(progressLine(epoch, epochs, done, batches, s, (t - t0) / 1000 / Math.max(done, 1)));
    },
    epochEnd() {},
  };
}
