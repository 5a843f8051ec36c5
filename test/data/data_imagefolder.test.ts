import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IMAGENET_MEAN, IMAGENET_STD, loadData, loadImageFolder, loadImageFolderSplit, withNormalization } from '../../src/data/index.js';

/** An RGBA image w x h whose pixel (x, y) is f(x, y). */
function rgba(w: number, h: number, f: (x: number, y: number) => [number, number, number]): Buffer {
  const data = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const [r, g, b] = f(x, y);
      data.set([r, g, b, 255], (y * w + x) * 4);
    }
  return data;
}
const png = (w: number, h: number, f: (x: number, y: number) => [number, number, number]) => {
  const p = new PNG({ width: w, height: h });
  rgba(w, h, f).copy(p.data);
  return PNG.sync.write(p);
};
const jpg = (w: number, h: number, f: (x: number, y: number) => [number, number, number]) => jpeg.encode({ data: rgba(w, h, f), width: w, height: h }, 95).data;

function write(root: string, files: Record<string, Buffer>): string {
  for (const [rel, data] of Object.entries(files)) {
    const full = join(root, rel);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, data);
  }
  return root;
}
const tmp = () => mkdtempSync(join(tmpdir(), 'sg-imgfolder-'));

describe('image folders (torchvision ImageFolder layout)', () => {
  const gradient = (x: number, y: number): [number, number, number] => [10 * x, 20 * y, 200];

  it('reads PNG and JPEG files, classes in sorted folder order, pixels exact for PNG and close for JPEG', () => {
    const dir = write(tmp(), {
      'zebra/a.png': png(4, 3, gradient),
      'cat/b.PNG': png(4, 3, () => [255, 0, 0]),
      'cat/c.jpg': jpg(4, 3, () => [0, 128, 255]),
      'cat/notes.txt': Buffer.from('not an image'),
    });
    const set = loadImageFolder(dir, { height: 3, width: 4 });
    expect(set.classNames).toEqual(['cat', 'zebra']);
    expect(set.count).toBe(3);
    expect(Array.from(set.labels)).toEqual([0, 0, 1]); // cat/b.PNG, cat/c.jpg, zebra/a.png
    const px = (n: number, y: number, x: number) => Array.from(set.pixels.subarray(((n * 3 + y) * 4 + x) * 3, ((n * 3 + y) * 4 + x) * 3 + 3));
    expect(px(0, 1, 2)).toEqual([255, 0, 0]);
    for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) expect(px(2, y, x)).toEqual(gradient(x, y));
    px(1, 2, 3).forEach((v, k) => expect(Math.abs(v - [0, 128, 255][k])).toBeLessThanOrEqual(4));
    expect([set.height, set.width, set.channels, set.classes, set.scale]).toEqual([3, 4, 3, 2, 1 / 255]);
    expect(set.mean).toEqual(IMAGENET_MEAN);
    expect(set.std).toEqual(IMAGENET_STD);
  });

  it('resizes to the requested size bilinearly, and converts to grey as PIL "L"', () => {
    const dir = write(tmp(), { 'a/x.png': png(4, 4, (x, y) => [x < 2 && y < 2 ? 200 : 0, 0, 0]) });
    const rgb = loadImageFolder(dir, { height: 2, width: 2 });
    expect(Array.from(rgb.pixels)).toEqual([200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const grey = loadImageFolder(write(tmp(), { 'a/x.png': png(2, 2, () => [100, 150, 50]) }), { height: 2, width: 2, channels: 1 });
    expect(Array.from(grey.pixels)).toEqual(new Array(4).fill(Math.round((100 * 299 + 150 * 587 + 50 * 114) / 1000)));
    expect(grey.mean).toHaveLength(1);
  });

  it('imagefolder:DIR reads train/ and val/ with the same classes, at the architecture size', () => {
    const root = write(tmp(), {
      'train/dog/1.png': png(8, 8, () => [0, 0, 0]),
      'train/cat/1.jpg': jpg(8, 8, () => [255, 255, 255]),
      'train/cat/2.jpeg': jpg(6, 10, () => [255, 255, 255]),
      'val/cat/1.png': png(5, 5, () => [255, 255, 255]),
      'val/dog/1.png': png(5, 5, () => [0, 0, 0]),
    });
    const { train, test } = loadData(`imagefolder:${root}`, {}, { height: 4, width: 4, channels: 3 });
    expect([train.count, test.count, train.classes, test.classes]).toEqual([3, 2, 2, 2]);
    expect(Array.from(test.labels)).toEqual([0, 1]);
    expect([test.height, test.width]).toEqual([4, 4]);
    expect(test.pixels[0]).toBe(255);
    expect(test.pixels[4 * 4 * 3]).toBe(0);
  });

  it('refuses what is not an image folder, with what to do', () => {
    expect(() => loadImageFolder(join(tmpdir(), 'sg-no-such-folder'), { height: 2, width: 2 })).toThrow(/image folder not found/);
    expect(() => loadImageFolder(tmp(), { height: 2, width: 2 })).toThrow(/no class folders; expected .*<class>\/<image>\.jpg\|\.png/);
    expect(() => loadImageFolder(write(tmp(), { 'a/x.txt': Buffer.from('x') }), { height: 2, width: 2 })).toThrow(/no \.jpg, \.jpeg or \.png files/);
    expect(() => loadImageFolder(write(tmp(), { 'a/x.png': Buffer.from('not a png') }), { height: 2, width: 2 })).toThrow(/x\.png: neither a JPEG nor a PNG/);
    expect(() => loadImageFolder(write(tmp(), { 'a/x.png': Buffer.concat([png(2, 2, gradient).subarray(0, 30)]) }), { height: 2, width: 2 })).toThrow(/x\.png: not a readable image/);
    expect(() => loadImageFolderSplit(write(tmp(), { 'train/a/x.png': png(2, 2, gradient) }), { height: 2, width: 2 })).toThrow(/must hold train\/ and val\/ \(or test\/\)/);
    const mismatched = write(tmp(), { 'train/a/x.png': png(2, 2, gradient), 'val/a/x.png': png(2, 2, gradient), 'val/b/x.png': png(2, 2, gradient) });
    expect(() => loadImageFolderSplit(mismatched, { height: 2, width: 2 })).toThrow(/class folder 'b' that the training folder lacks/);
    expect(() => loadData('imagefolder:')).toThrow(/needs the folder/);
    const set = loadImageFolder(write(tmp(), { 'a/x.png': png(2, 2, gradient) }), { height: 2, width: 2 });
    expect(() => withNormalization(set, [0.5], [0.5])).toThrow(/needs 3 mean and std values/);
  });
});
