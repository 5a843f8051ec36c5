/**
 * The training protocol's lines (src/training): the epoch line both engines print (and the
 * PyTorch script's own, when it runs without Node, says the same), the progress line, and when
 * progress lines come without a terminal (every N steps or N seconds).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { epochLine, formatDuration, parseProgressEvery, progressBar, progressLine, progressLines, type EpochRecord } from '../../src/training/index.js';

const RECORD: EpochRecord = { epoch: 2, loss: 0.123456, acc: 0.5, valLoss: 1.5, valAcc: 0.25, valTop5: 0.875, seconds: 12.34, imagesPerSecond: 456.7 };

describe('the epoch line', () => {
  it('formats a record, an EMA column, and n/a for what the trainer sent as null', () => {
    expect(epochLine(RECORD, 10)).toBe('epoch 2/10: loss 0.1235 acc 50.00% | held-out loss 1.5000 acc 25.00% top-5 87.50% | 12.3 s, 457 img/s');
    expect(epochLine({ ...RECORD, emaValAcc: 0.3 }, 10)).toBe('epoch 2/10: loss 0.1235 acc 50.00% | held-out loss 1.5000 acc 25.00% top-5 87.50% | EMA acc 30.00% | 12.3 s, 457 img/s');
    expect(epochLine({ ...RECORD, loss: null as unknown as number, valLoss: Number.NaN }, 10)).toBe('epoch 2/10: loss n/a acc 50.00% | held-out loss n/a acc 25.00% top-5 87.50% | 12.3 s, 457 img/s');
  });

  it("is the PyTorch script's own line (python/skipgraph_train_loop.py's epoch_line) word for word", () => {
    const py = `import json, sys; sys.path.insert(0, "python"); from skipgraph_train_loop import epoch_line
for r in json.loads(sys.argv[1]): print(epoch_line(r, 10))`;
    const records = [RECORD, { ...RECORD, emaValAcc: 0.3 }, { ...RECORD, loss: null }];
    const r = spawnSync('/usr/bin/python3', ['-c', py, JSON.stringify(records)], { encoding: 'utf8', cwd: join(import.meta.dirname, '../..') });
    if (r.error || /No module named 'torch'/.test(r.stderr)) return void process.stderr.write('no Python with torch: the script\'s epoch line unchecked\n');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(records.map((x) => epochLine(x as EpochRecord, 10)));
  });
});

describe('progress without a terminal', () => {
  it('a progress line: the step of the run, loss, accuracy, rate, images/s and the ETA', () => {
    const line = progressLine(2, 10, 30, 50, { loss: 1.23456, acc: 0.567, imagesPerSecond: 512.4, lr: 0.081234567, step: 80, steps: 500 }, 0.5);
    expect(line).toBe('epoch 2/10 step 80/500 (batch 30/50): loss 1.2346 acc 56.7% | lr 0.08123 | 512 img/s | eta 3m30s');
    expect(formatDuration(3725)).toBe('1h02m05s');
    expect(formatDuration(4)).toBe('4s');
  });

  it('--progress-every: N steps or N seconds', () => {
    expect(parseProgressEvery('50')).toEqual({ steps: 50 });
    expect(parseProgressEvery('10s')).toEqual({ seconds: 10 });
    expect(parseProgressEvery('0')).toBeUndefined();
    expect(parseProgressEvery('ten')).toBeUndefined();
  });

  it('every N seconds (by the clock given), every N steps, never in between', () => {
    let t = 0;
    const lines: string[] = [];
    const timed = progressLines((l) => lines.push(l), { seconds: 30 }, () => t);
    timed.epochStart(1, 1, 100);
    for (let k = 1; k <= 100; k++) {
      t = k * 1000; // a step a second
      timed.batch(k, { loss: 1, acc: 0.5, imagesPerSecond: 64, step: k, steps: 100 });
    }
    expect(lines.map((l) => /step (\d+)\//.exec(l)![1])).toEqual(['30', '60', '90']);
    expect(lines[0]).toMatch(/eta 1m10s$/);
    const counted: string[] = [];
    const stepped = progressLines((l) => counted.push(l), { steps: 25 }, () => 0);
    stepped.epochStart(1, 1, 100);
    for (let k = 1; k <= 100; k++) stepped.batch(k, { loss: 1, acc: 0.5, imagesPerSecond: 64 });
    expect(counted.map((l) => /batch (\d+)\//.exec(l)![1])).toEqual(['25', '50', '75', '100']);
  });

  it('progressBar: lines through the writer when the stream is not a terminal (a pipe, nohup, CI)', () => {
    const lines: string[] = [];
    const stream = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;
    const p = progressBar(stream, { steps: 1 }, (l) => lines.push(l));
    p.epochStart(1, 2, 3);
    p.batch(1, { loss: 2, acc: 0.1, imagesPerSecond: 10, lr: 0.1, step: 1, steps: 6 });
    p.epochEnd();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^epoch 1\/2 step 1\/6 \(batch 1\/3\): loss 2\.0000 acc 10\.0% \| lr 0\.1 \| 10 img\/s \| eta \d+s$/);
  });
});
