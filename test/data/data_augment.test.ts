import { describe, expect, it } from 'vitest';
import {
  augmentSample,
  cropResize,
  hflip,
  mixBatch,
  padCrop,
  parseAugment,
  random,
  resize,
  resizedCropBox,
  subset,
  type Image,
  type ImageSet,
} from '../../src/data/index.js';
import { DataLoader } from '../../src/targets/tfjs/data/loader.js';
import { UserError } from '../../src/errors/index.js';

/** A tiny set: sample i is an h x w x c image whose value at (y, x, k) is 100 i + 10 y + x + k / 10 (bytes not needed). */
function tinySet(count: number, h = 3, w = 3, c = 2, classes = 3): ImageSet {
  const pixels = new Float32Array(count * h * w * c);
  for (let i = 0; i < count; i++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) pixels[((i * h + y) * w + x) * c + k] = 100 * i + 10 * y + x + k / 10;
  return { name: 'tiny', height: h, width: w, channels: c, classes, count, pixels, scale: 1, labels: Uint8Array.from({ length: count }, (_, i) => i % classes), mean: new Array(c).fill(0), std: new Array(c).fill(1) };
}
const imageOf = (set: ImageSet, i: number): Image => {
  const per = set.height * set.width * set.channels;
  return { data: Float32Array.from(set.pixels.subarray(i * per, (i + 1) * per)), height: set.height, width: set.width, channels: set.channels };
};
const at = (img: Image, y: number, x: number, k = 0) => img.data[(y * img.width + x) * img.channels + k];

describe('DataLoader', () => {
  it('batches every sample once per epoch, the last batch partial, or dropped with dropLast (PyTorch)', () => {
    const set = tinySet(10);
    const keep = new DataLoader(set, { batchSize: 4, shuffle: true, seed: 5 });
    expect(keep.length).toBe(3);
    const batches = [...keep.epoch(0)];
    expect(batches.map((b) => b.shape[0])).toEqual([4, 4, 2]);
    const seen = batches.flatMap((b) => Array.from({ length: b.shape[0] }, (_, k) => Math.round(b.x[k * 18] / 100)));
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const drop = new DataLoader(set, { batchSize: 4, shuffle: true, seed: 5, dropLast: true });
    expect(drop.length).toBe(2);
    expect([...drop.epoch(0)].map((b) => b.shape[0])).toEqual([4, 4]);
    // labels and one-hot rows follow the samples
    for (const b of batches)
      for (let k = 0; k < b.shape[0]; k++) {
        const i = Math.round(b.x[k * 18] / 100);
        expect(b.labels[k]).toBe(i % 3);
        expect(Array.from(b.y.subarray(k * 3, k * 3 + 3))).toEqual([0, 1, 2].map((j) => (j === i % 3 ? 1 : 0)));
      }
  });

  it('shuffles by the seed and the epoch: the same seed and epoch give the same order, others another; no shuffle keeps the order', () => {
    const set = tinySet(50, 1, 1, 1);
    const order = (seed: number, epoch: number) => Array.from(new DataLoader(set, { batchSize: 7, shuffle: true, seed }).order(epoch));
    expect(order(1, 0)).toEqual(order(1, 0));
    expect(order(1, 1)).not.toEqual(order(1, 0));
    expect(order(2, 0)).not.toEqual(order(1, 0));
    expect(Array.from(new DataLoader(set, { batchSize: 7 }).order(3))).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(() => new DataLoader(set, { batchSize: 0 })).toThrow(UserError);
  });

  it('normalises with the set mean and std per channel', () => {
    const set = { ...tinySet(2), mean: [1, 2], std: [2, 4] };
    const [b] = [...new DataLoader(set, { batchSize: 2 }).epoch(0)];
    expect(b.x[0]).toBeCloseTo((0 - 1) / 2, 6);
    expect(b.x[1]).toBeCloseTo((0.1 - 2) / 4, 6);
    expect(b.x[18 + 5]).toBeCloseTo((100 + 2.1 - 2) / 4, 4); // sample 1, pixel (0, 2), channel 1
  });

  it('augments deterministically under the seed: the same seed the same batches, another seed others', () => {
    const set = tinySet(16, 6, 6, 1);
    const a = parseAugment('crop:2+flip+mixup');
    const run = (seed: number) => [...new DataLoader(set, { batchSize: 8, shuffle: true, seed, augment: a }).epoch(0)].map((b) => Array.from(b.x));
    expect(run(3)).toEqual(run(3));
    expect(run(4)).not.toEqual(run(3));
  });

  it('keeps class indices above 255 (ImageNet has 1000 classes): subsets and batches carry them', () => {
    const set: ImageSet = { ...tinySet(3, 1, 1, 1, 1000), labels: Uint16Array.from([999, 256, 3]) };
    const sub = subset(set, [1, 0]);
    expect(Array.from(sub.labels)).toEqual([256, 999]);
    const [b] = [...new DataLoader(sub, { batchSize: 2 }).epoch(0)];
    expect(Array.from(b.labels)).toEqual([256, 999]);
    expect(b.y[256]).toBe(1);
    expect(b.y[1000 + 999]).toBe(1);
  });

  it('gives tf.data batches with prefetch, epoch by epoch', async () => {
    const set = tinySet(5);
    let epoch = 0;
    const ds = new DataLoader(set, { batchSize: 2, shuffle: true, prefetch: 2 }).dataset(() => epoch);
    const shapes: number[][] = [];
    await ds.forEachAsync((b) => {
      shapes.push(b.xs.shape);
      b.xs.dispose();
      b.ys.dispose();
    });
    expect(shapes).toEqual([[2, 3, 3, 2], [2, 3, 3, 2], [1, 3, 3, 2]]);
    epoch = 1;
    expect((await ds.toArray()).length).toBe(3);
  });
});

describe('augmentation against its definition', () => {
  const set = tinySet(1, 4, 5, 2);
  const img = imageOf(set, 0);

  it('hflip mirrors the columns', () => {
    const f = hflip(img);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 5; x++) for (let k = 0; k < 2; k++) expect(at(f, y, x, k)).toBe(at(img, y, 4 - x, k));
  });

  it('padCrop is the window of the zero-padded image', () => {
    const out = padCrop(img, 2, 1, 3, 4, 5);
    for (let y = 0; y < 4; y++)
      for (let x = 0; x < 5; x++) {
        const [sy, sx] = [y + 1 - 2, x + 3 - 2];
        expect(at(out, y, x, 1)).toBe(sy >= 0 && sy < 4 && sx >= 0 && sx < 5 ? at(img, sy, sx, 1) : 0);
      }
  });

  it('random crop with padding p draws every offset in [0, 2p] and keeps the size', () => {
    const rng = random(1);
    const offsets = new Set<string>();
    for (let t = 0; t < 400; t++) {
      const out = augmentSample(rng, img, { crop: { padding: 1 } });
      expect([out.height, out.width]).toEqual([4, 5]);
      // find the offset: the shifted window that equals out
      const found: string[] = [];
      for (let top = 0; top <= 2; top++) for (let left = 0; left <= 2; left++) if (Array.from(padCrop(img, 1, top, left, 4, 5).data).join() === Array.from(out.data).join()) found.push(`${top},${left}`);
      expect(found).toHaveLength(1);
      offsets.add(found[0]);
    }
    expect(offsets.size).toBe(9);
  });

  it('flip(p) flips with probability p', () => {
    const rng = random(2);
    const flipped = (p: number) => Array.from({ length: 1000 }, () => at(augmentSample(rng, img, { flip: p }), 0, 0) === at(img, 0, 4)).filter(Boolean).length;
    expect(flipped(1)).toBe(1000);
    expect(flipped(0)).toBe(0);
    expect(flipped(0.5)).toBeGreaterThan(440);
    expect(flipped(0.5)).toBeLessThan(560);
  });

  it('bilinear resize is PyTorch interpolate(align_corners=False): a 2x reduction averages 2x2 blocks; the same size is the identity', () => {
    const sq = imageOf(tinySet(1, 4, 4, 1), 0);
    const half = resize(sq, 2, 2);
    expect(at(half, 0, 0)).toBeCloseTo((0 + 1 + 10 + 11) / 4, 5);
    expect(at(half, 1, 1)).toBeCloseTo((22 + 23 + 32 + 33) / 4, 5);
    expect(resize(sq, 4, 4)).toBe(sq);
    // 2x enlargement of a 2-pixel row [0, 10]: src = (x + 0.5) / 2 - 0.5, clamped: 0, 2.5, 7.5, 10
    const row: Image = { data: Float32Array.from([0, 10]), height: 1, width: 2, channels: 1 };
    expect(Array.from(cropResize(row, 0, 0, 1, 2, 1, 4).data)).toEqual([0, 2.5, 7.5, 10]);
  });

  it('random-resized crop: boxes inside the image, with area in scale and ratio in range when they fit', () => {
    const rng = random(3);
    for (let t = 0; t < 300; t++) {
      const b = resizedCropBox(rng, 32, 32, [0.25, 1], [3 / 4, 4 / 3]);
      expect(b.top >= 0 && b.left >= 0 && b.top + b.height <= 32 && b.left + b.width <= 32).toBe(true);
      const area = (b.height * b.width) / 1024;
      expect(area).toBeGreaterThan(0.2);
      expect(b.width / b.height).toBeGreaterThan(0.6);
      expect(b.width / b.height).toBeLessThan(1.6);
    }
    // nothing can fit (scale above 1): the centre crop, the whole of a square image
    expect(resizedCropBox(rng, 10, 10, [2, 3], [3 / 4, 4 / 3])).toEqual({ top: 0, left: 0, height: 10, width: 10 });
    const out = augmentSample(rng, img, { resizedCrop: {} });
    expect([out.height, out.width, out.channels]).toEqual([4, 5, 2]);
  });

  it('mixup mixes each sample with the reversed batch by lam, labels too', () => {
    const n = 3;
    const x = Float32Array.from({ length: n * 4 }, (_, i) => i);
    const y = Float32Array.from([1, 0, 0, 1, 0, 1]);
    const [x0, y0] = [x.slice(), y.slice()];
    const lam = mixBatch(random(4), x, y, n, 2, 2, 1, 2, { mixup: 0.4 });
    expect(lam).toBeGreaterThan(0);
    expect(lam).toBeLessThan(1);
    for (let k = 0; k < n; k++) for (let p = 0; p < 4; p++) expect(x[k * 4 + p]).toBeCloseTo(lam * x0[k * 4 + p] + (1 - lam) * x0[(n - 1 - k) * 4 + p], 5);
    for (let k = 0; k < n; k++) for (let j = 0; j < 2; j++) expect(y[k * 2 + j]).toBeCloseTo(lam * y0[k * 2 + j] + (1 - lam) * y0[(n - 1 - k) * 2 + j], 6);
  });

  it('cutmix pastes a box of the reversed sample and weighs the labels by its area', () => {
    const [n, h, w] = [2, 8, 8];
    const x = Float32Array.from({ length: n * h * w }, (_, i) => (i < h * w ? 1 : 2));
    const y = Float32Array.from([1, 0, 0, 1]);
    const lam = mixBatch(random(9), x, y, n, h, w, 1, 2, { cutmix: 1 });
    const pasted = Array.from(x.subarray(0, h * w)).filter((v) => v === 2).length;
    expect(pasted).toBeGreaterThan(0);
    expect(lam).toBeCloseTo(1 - pasted / (h * w), 6);
    expect(Array.from(x.subarray(h * w)).filter((v) => v === 1).length).toBe(pasted);
    expect(y[0]).toBeCloseTo(lam, 6);
    expect(y[1]).toBeCloseTo(1 - lam, 6);
    // the pasted pixels form one rectangle
    const rows = new Set<number>();
    const cols = new Set<number>();
    for (let p = 0; p < h * w; p++) if (x[p] === 2) (rows.add(Math.floor(p / w)), cols.add(p % w));
    expect(rows.size * cols.size).toBe(pasted);
  });

  it('parses --augment words and refuses bad ones with the reason', () => {
    expect(parseAugment('crop+flip')).toEqual({ crop: { padding: 4 }, flip: 0.5 });
    expect(parseAugment('rrc:0.35,flip:0.25,cutmix,mixup:0.8')).toEqual({ resizedCrop: { scale: [0.35, 1] }, flip: 0.25, cutmix: 1, mixup: 0.8 });
    expect(parseAugment('none')).toEqual({});
    expect(() => parseAugment('crop+rotate')).toThrow(/unknown word 'rotate'; use none, crop\[:PAD\]/);
    expect(() => parseAugment('flip:2')).toThrow(/'flip:2' needs a probability in \[0, 1\]/);
    expect(() => parseAugment('crop+rrc')).toThrow(/one of 'crop' and 'rrc'/);
    expect(() => parseAugment('none+flip')).toThrow(/'none' cannot be combined/);
  });
});
