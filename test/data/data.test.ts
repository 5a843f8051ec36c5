import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchArrays, loadCifar10Bin, loadData, loadMnist, permutation } from '../../src/data/index.js';
import { UserError } from '../../src/errors/index.js';

describe('MNIST from the mnist package', () => {
  const split = loadMnist();

  it('holds the 10,000 real digits, split 8,000 / 2,000, every class on both sides', () => {
    expect(split.train.count + split.test.count).toBe(10_000);
    expect(split.test.count).toBe(2_000);
    for (const set of [split.train, split.test]) {
      expect([set.height, set.width, set.channels, set.classes]).toEqual([28, 28, 1, 10]);
      expect(set.pixels.length).toBe(set.count * 784);
      const counts = new Array(10).fill(0);
      set.labels.forEach((l) => counts[l]++);
      expect(Math.min(...counts)).toBeGreaterThan(set.count / 20);
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of set.pixels) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      expect([lo, hi]).toEqual([0, expect.closeTo(1, 1)]);
    }
  });

  it('splits with a fixed seed: the same by default, another with another seed', () => {
    const again = loadMnist();
    expect(Array.from(again.test.labels)).toEqual(Array.from(split.test.labels));
    const other = loadMnist({ seed: 1 });
    expect(Array.from(other.test.labels)).not.toEqual(Array.from(split.test.labels));
    expect(loadMnist({ holdout: 0.5 }).test.count).toBe(5_000);
    expect(() => loadMnist({ holdout: 1 })).toThrow(UserError);
  });

  it('normalises batches and one-hot encodes labels', () => {
    const { x, y } = batchArrays(split.test, [3, 0], 0, 2);
    expect(x.length).toBe(2 * 784);
    for (let p = 0; p < 784; p += 97) expect(x[p]).toBeCloseTo((split.test.pixels[3 * 784 + p] - 0.1307) / 0.3081, 5);
    expect(Array.from(y.slice(0, 10))).toEqual(Array.from({ length: 10 }, (_, k) => (k === split.test.labels[3] ? 1 : 0)));
    expect(y.slice(10).indexOf(1)).toBe(split.test.labels[0]);
  });

  it('permutes with a seed', () => {
    const p = permutation(1000, 42);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(permutation(1000, 42))).toEqual(Array.from(p));
    expect(Array.from(permutation(1000, 43))).not.toEqual(Array.from(p));
  });
});

describe('CIFAR-10 binary reader', () => {
  /** A record: label, then 1024 red, 1024 green, 1024 blue bytes; pixel p of channel k = (p + 7k + label) % 256. */
  const record = (label: number) => {
    const r = new Uint8Array(3073);
    r[0] = label;
    for (let k = 0; k < 3; k++) for (let p = 0; p < 1024; p++) r[1 + k * 1024 + p] = (p + 7 * k + label) % 256;
    return r;
  };
  const file = (labels: number[]) => Buffer.concat(labels.map((l) => Buffer.from(record(l))));
  const dirWith = (files: Record<string, Buffer>) => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-cifar-'));
    for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
    return dir;
  };

  it('reads records into NHWC with their labels, across training files', () => {
    const dir = dirWith({ 'data_batch_1.bin': file([3, 9]), 'data_batch_2.bin': file([0]), 'test_batch.bin': file([5]) });
    const { train, test } = loadData(`cifar10-bin:${dir}`);
    expect([train.count, test.count]).toEqual([3, 1]);
    expect(Array.from(train.labels)).toEqual([3, 9, 0]);
    expect([train.height, train.width, train.channels]).toEqual([32, 32, 3]);
    for (const [n, label] of [[0, 3], [1, 9], [2, 0]])
      for (const p of [0, 1, 31, 32, 500, 1023])
        for (let k = 0; k < 3; k++) expect(train.pixels[(n * 1024 + p) * 3 + k]).toBe((p + 7 * k + label) % 256);
    expect(test.pixels[(100 * 3) + 2]).toBe((100 + 14 + 5) % 256);
    const { x } = batchArrays(test, [0], 0, 1);
    expect(x[0]).toBeCloseTo((5 / 255 - 0.4914) / 0.247, 5);
  });

  it('refuses what is not CIFAR-10 binary data, with the reason', () => {
    expect(() => loadCifar10Bin(join(tmpdir(), 'sg-no-such-dir'))).toThrow(/not found/);
    expect(() => loadCifar10Bin(dirWith({ 'test_batch.bin': file([1]) }))).toThrow(/no CIFAR-10 training file/);
    expect(() => loadCifar10Bin(dirWith({ 'data_batch_1.bin': file([1]) }))).toThrow(/test_batch\.bin not found/);
    expect(() => loadCifar10Bin(dirWith({ 'data_batch_1.bin': file([1]).subarray(0, 3000), 'test_batch.bin': file([1]) }))).toThrow(/not a whole number of 3073-byte/);
    expect(() => loadCifar10Bin(dirWith({ 'data_batch_1.bin': file([12]), 'test_batch.bin': file([1]) }))).toThrow(/label 12/);
    expect(() => loadData('imagenet')).toThrow(UserError);
    expect(() => loadData('cifar10-bin:')).toThrow(/needs the folder/);
  });
});
