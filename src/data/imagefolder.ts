import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { UserError } from '../errors/index.js';
import type { ImageSet, TrainTestSplit } from './dataset.js';
import { resize } from './transforms.js';

/** torchvision's normalisation constants, of [0, 1] values. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];
export const CIFAR10_MEAN = [0.4914, 0.4822, 0.4465];
export const CIFAR10_STD = [0.247, 0.2435, 0.2616];
export const MNIST_MEAN = [0.1307];
export const MNIST_STD = [0.3081];

/** `set` normalised with other per-channel constants (one value per channel). */
export function withNormalization(set: ImageSet, mean: number[], std: number[]): ImageSet {
  if (mean.length !== set.channels || std.length !== set.channels) {
    throw new UserError(`normalisation needs ${set.channels} mean and std value${set.channels === 1 ? '' : 's'} for ${set.name}, not ${mean.length} and ${std.length}`);
  }
  if (std.some((s) => !(s > 0))) throw new UserError(`normalisation std values must be positive, not ${std.join(', ')}`);
  return { ...set, mean: [...mean], std: [...std] };
}

const EXTENSIONS = new Set(['.jpg', '.jpeg', '.png']);

export interface ImageFolderOptions {
  /** The size every image is resized to (the architecture's input). */
  height: number;
  width: number;
  /** 3 (RGB) or 1 (grey, as PIL's 'L': 0.299 R + 0.587 G + 0.114 B). Default 3. */
  channels?: number;
  /** Per-channel constants; default ImageNet's (grey: their luminance mix). */
  mean?: number[];
  std?: number[];
  /** The class names in order (default: the sorted folder names, as torchvision). */
  classes?: string[];
  name?: string;
}

/** Decodes a JPEG or PNG file into RGBA bytes. */
function decode(file: string): { data: Uint8Array; width: number; height: number } {
  const bytes = readFileSync(file);
  try {
    if (bytes[0] === 0x89 && bytes[1] === 0x50) {
      const png = PNG.sync.read(bytes);
      return { data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length), width: png.width, height: png.height };
    }
    if (bytes[0] === 0xff && bytes[1] === 0xd8) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
      return { data: img.data, width: img.width, height: img.height };
    }
  } catch (err) {
    throw new UserError(`${file}: not a readable image (${(err as Error).message})`);
  }
  throw new UserError(`${file}: neither a JPEG nor a PNG file (by its first bytes)`);
}

/** The class folders of `dir` and their image files, sorted (torchvision's find_classes + make_dataset). */
export function listImageFolder(dir: string, classes?: string[]): { classes: string[]; files: { file: string; label: number }[] } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`image folder not found: ${dir}`);
  const found = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  const names = classes ?? found;
  if (names.length === 0) throw new UserError(`${dir} has no class folders; expected ${dir}/<class>/<image>.jpg|.png (torchvision's ImageFolder layout)`);
  const files: { file: string; label: number }[] = [];
  names.forEach((name, label) => {
    const sub = join(dir, name);
    if (!existsSync(sub)) throw new UserError(`${dir} has no folder for class '${name}' (the training folder has one)`);
    for (const f of readdirSync(sub).sort()) if (EXTENSIONS.has(extname(f).toLowerCase())) files.push({ file: join(sub, f), label });
  });
  const extra = found.filter((f) => !names.includes(f));
  if (extra.length > 0) throw new UserError(`${dir} has class folder${extra.length === 1 ? '' : 's'} ${extra.map((e) => `'${e}'`).join(', ')} that the training folder lacks`);
  if (files.length === 0) throw new UserError(`${dir} has class folders but no .jpg, .jpeg or .png files in them`);
  return { classes: names, files };
}

/**
 * One folder in torchvision's ImageFolder layout (DIR/<class>/<file>.jpg|.jpeg|.png, classes
 * in sorted order), every image decoded (jpeg-js, pngjs), converted to RGB or grey, and resized
 * bilinearly (align_corners=False, no antialias) to height x width, held as bytes.
 */
export function loadImageFolder(dir: string, options: ImageFolderOptions): ImageSet & { classNames: string[] } {
  const { height, width } = options;
  const channels = options.channels ?? 3;
  if (channels !== 1 && channels !== 3) throw new UserError(`image folders give 1 or 3 channels, not ${channels}`);
  const { classes, files } = listImageFolder(dir, options.classes);
  const per = height * width * channels;
  const pixels = new Uint8Array(files.length * per);
  if (classes.length > 65_536) throw new UserError(`${dir}: ${classes.length} classes; at most 65,536 are supported`);
  const labels = classes.length > 256 ? new Uint16Array(files.length) : new Uint8Array(files.length);
  files.forEach(({ file, label }, n) => {
    const img = decode(file);
    const rgb = new Float32Array(img.width * img.height * channels);
    for (let p = 0; p < img.width * img.height; p++) {
      const [r, g, b] = [img.data[4 * p], img.data[4 * p + 1], img.data[4 * p + 2]];
      if (channels === 3) {
        rgb[3 * p] = r;
        rgb[3 * p + 1] = g;
        rgb[3 * p + 2] = b;
      } else rgb[p] = (r * 299 + g * 587 + b * 114) / 1000;
    }
    const out = resize({ data: rgb, height: img.height, width: img.width, channels }, height, width);
    for (let i = 0; i < per; i++) pixels[n * per + i] = Math.min(255, Math.max(0, Math.round(out.data[i])));
    labels[n] = label;
  });
  const grey = (v: number[]) => [0.299 * v[0] + 0.587 * v[1] + 0.114 * v[2]];
  const mean = options.mean ?? (channels === 3 ? IMAGENET_MEAN : grey(IMAGENET_MEAN));
  const std = options.std ?? (channels === 3 ? IMAGENET_STD : grey(IMAGENET_STD));
  const set: ImageSet = { name: options.name ?? dir, height, width, channels, classes: classes.length, count: files.length, pixels, scale: 1 / 255, labels, mean, std };
  return { ...withNormalization(set, mean, std), classNames: classes };
}

/**
 * `imagefolder:DIR`: DIR/train/ and DIR/val/ (or DIR/test/), each an ImageFolder with the same
 * class folders (torchvision's ImageNet layout).
 */
export function loadImageFolderSplit(root: string, options: ImageFolderOptions): TrainTestSplit & { classNames: string[] } {
  const trainDir = join(root, 'train');
  const testDir = ['val', 'test'].map((d) => join(root, d)).find((d) => existsSync(d));
  if (!existsSync(trainDir) || testDir === undefined) {
    throw new UserError(`${root} must hold train/ and val/ (or test/) folders, each with one folder per class (torchvision's ImageFolder layout)`);
  }
  const train = loadImageFolder(trainDir, { ...options, name: options.name ?? `imagefolder:${root}` });
  const test = loadImageFolder(testDir, { ...options, classes: train.classNames, name: options.name ?? `imagefolder:${root}` });
  return { train, test, classNames: train.classNames };
}
