/**
 * The data file the PyTorch trainer (python/skipgraph_train.py) reads: safetensors with tensors
 * train_x, train_y, test_x, test_y (NHWC pixels as the TF.js engine holds them, uint8 or float32;
 * uint8 labels, int32 past 256 classes) and metadata "info" (JSON: name, height, width, channels, classes, scale, mean,
 * std). Written once per run folder, so every process (and a resumed run) reads the same split.
 * The format is src/formats' safetensors writer; the splits are src/data's ImageSet.
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import type { ImageSet } from '../../data/dataset.js';
import { serializeSafetensors, type TensorToWrite } from '../../formats/safetensors.js';
import { writeFileAtomic } from '../../io/atomic.js';

export interface DataInfo {
  name: string;
  height: number;
  width: number;
  channels: number;
  classes: number;
  scale: number;
  mean: number[];
  std: number[];
  train: number;
  test: number;
  /** What made the file (data spec, limits, split seed): a file with another key is rewritten. */
  key: string;
}

const pixelsOf = (set: ImageSet): TensorToWrite => {
  const shape = [set.count, set.height, set.width, set.channels];
  return set.pixels instanceof Float32Array ? { dtype: 'F32', shape, data: set.pixels } : { dtype: 'U8', shape, data: set.pixels };
};
/** uint8 labels as they are; past 256 classes int32 (torch 1.13 has no uint16). */
const labelsOf = (set: ImageSet): TensorToWrite =>
  set.labels instanceof Uint16Array ? { dtype: 'I32', shape: [set.count], data: Int32Array.from(set.labels) } : { dtype: 'U8', shape: [set.count], data: set.labels };

/** Writes `path` (atomically) unless it already holds data with the same key. Returns whether it wrote. */
export function writeDataFile(path: string, split: { train: ImageSet; test: ImageSet }, key: string): boolean {
  if (readDataInfo(path)?.key === key) return false;
  const { train, test } = split;
  const info: DataInfo = {
    name: train.name,
    height: train.height,
    width: train.width,
    channels: train.channels,
    classes: train.classes,
    scale: train.scale,
    mean: train.mean,
    std: train.std,
    train: train.count,
    test: test.count,
    key,
  };
  const bytes = serializeSafetensors(
    new Map([
      ['train_x', pixelsOf(train)],
      ['train_y', labelsOf(train)],
      ['test_x', pixelsOf(test)],
      ['test_y', labelsOf(test)],
    ]),
    { info: JSON.stringify(info) },
  );
  writeFileAtomic(path, bytes);
  return true;
}

/** The info of an existing data file, or undefined when there is none or it is not one. */
export function readDataInfo(path: string): DataInfo | undefined {
  if (!existsSync(path)) return undefined;
  const fd = openSync(path, 'r');
  try {
    const len = Buffer.alloc(8);
    if (readSync(fd, len, 0, 8, 0) !== 8) return undefined;
    const n = Number(len.readBigUInt64LE(0));
    if (n > 1_000_000) return undefined;
    const head = Buffer.alloc(n);
    readSync(fd, head, 0, n, 8);
    const info = (JSON.parse(head.toString('utf8')) as { __metadata__?: { info?: string } }).__metadata__?.info;
    return info === undefined ? undefined : (JSON.parse(info) as DataInfo);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
