/**
 * The data file the PyTorch trainer (python/skipgraph_train.py) reads: safetensors with tensors
 * train_x, train_y, test_x, test_y (NHWC pixels as the TF.js engine holds them, uint8 or float32;
 * uint8 labels, int32 past 256 classes) and metadata "info" (JSON: name, height, width, channels, classes, scale, mean,
 * std). Written once per run folder, so every process (and a resumed run) reads the same split.
 *
 * Written here rather than with runtime/weights' safetensors writer: that one is float32-only and
 * belongs to another target; this is the few lines of the format that uint8 needs.
 */
import { closeSync, existsSync, openSync, readSync, renameSync, writeSync } from 'node:fs';

/** One split as the data loaders hold it (the same shape as runtime/data's ImageSet). */
export interface ImageArrays {
  name: string;
  height: number;
  width: number;
  channels: number;
  classes: number;
  count: number;
  pixels: Uint8Array | Float32Array;
  scale: number;
  /** Class indices; Uint16Array past 256 classes (written as int32: torch 1.13 has no uint16). */
  labels: Uint8Array | Uint16Array;
  mean: number[];
  std: number[];
}

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

type Stored = Uint8Array | Float32Array | Int32Array;
const bytesOf = (a: Stored) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const dtypeOf = (a: Stored) => (a instanceof Float32Array ? 'F32' : a instanceof Int32Array ? 'I32' : 'U8');
const labelsOf = (l: Uint8Array | Uint16Array): Stored => (l instanceof Uint16Array ? Int32Array.from(l) : l);

/** Writes `path` (atomically) unless it already holds data with the same key. Returns whether it wrote. */
export function writeDataFile(path: string, split: { train: ImageArrays; test: ImageArrays }, key: string): boolean {
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
  const tensors: [string, Stored, number[]][] = [
    ['train_x', train.pixels, [train.count, train.height, train.width, train.channels]],
    ['train_y', labelsOf(train.labels), [train.count]],
    ['test_x', test.pixels, [test.count, test.height, test.width, test.channels]],
    ['test_y', labelsOf(test.labels), [test.count]],
  ];
  const header: Record<string, unknown> = { __metadata__: { info: JSON.stringify(info) } };
  let at = 0;
  for (const [name, data, shape] of tensors) {
    const dtype = dtypeOf(data);
    header[name] = { dtype, shape, data_offsets: [at, at + data.byteLength] };
    at += data.byteLength;
    at = Math.ceil(at / 8) * 8; // keep every tensor 8-aligned
  }
  const json = Buffer.from(JSON.stringify(header));
  const head = Buffer.alloc(8 + Math.ceil(json.length / 8) * 8, 0x20);
  head.writeBigUInt64LE(BigInt(head.length - 8), 0);
  json.copy(head, 8);
  const tmp = `${path}.tmp${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, head);
    let pos = 0;
    for (const [, data] of tensors) {
      writeSync(fd, bytesOf(data));
      pos += data.byteLength;
      const pad = Math.ceil(pos / 8) * 8 - pos;
      if (pad > 0) writeSync(fd, Buffer.alloc(pad));
      pos += pad;
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
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
