/**
 * A small, defensive reader and writer for the safetensors format
 * (https://github.com/huggingface/safetensors): 8 bytes little-endian u64 N, N bytes of UTF-8 JSON
 * header, then the raw little-endian tensor bytes. The header maps each tensor name to
 * `{ dtype, shape, data_offsets: [begin, end] }` (offsets relative to the data section) plus an
 * optional `__metadata__` map of strings.
 *
 * No npm package fits (the one named `safetensors` is a single unreviewed 0.0.1 release with no
 * repository), and the format is small, so this is our own. It never trusts the file: the header
 * length, every offset, every shape and dtype are checked before a byte of data is used.
 */
import { closeSync, fstatSync, openSync, readSync, writeFileSync } from 'node:fs';
import { UserError } from '../errors/index.js';
import { READ_FLAGS } from '../io/safe_read.js';

/** Element sizes of the dtypes the format defines. */
export const DTYPE_BYTES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
} as const;
export type Dtype = keyof typeof DTYPE_BYTES;

/** Dtypes `readFloat32` converts to float32 (weights); integer tensors are left to the caller. */
export const FLOAT_DTYPES: readonly Dtype[] = ['F32', 'F16', 'BF16', 'F64'];

/** The format's own limit on the header (the reference implementation refuses larger ones). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Byte range inside the data section. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** In the order the header lists them. */
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  /** Where the data section starts in the file: 8 + N. */
  dataStart: number;
}

/** A file whose bytes are not a valid safetensors file. */
export class SafetensorsError extends UserError {}

const MAX_DIMS = 16;

function fail(source: string, msg: string): never {
  throw new SafetensorsError(`${source}: not a valid safetensors file: ${msg}`);
}

/** Reads N from the first 8 bytes and checks it against the limit and the file's size. */
export function headerLength(prefix: Uint8Array, fileSize: number, source = 'safetensors', maxHeaderBytes = MAX_HEADER_BYTES): number {
  if (fileSize < 8 || prefix.length < 8) fail(source, `${fileSize} bytes is shorter than the 8-byte header length`);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n < 2n) fail(source, `header length ${n} is too small for a JSON object`);
  if (n > BigInt(maxHeaderBytes)) fail(source, `header length ${n} is over the limit of ${maxHeaderBytes} bytes`);
  if (8n + n > BigInt(fileSize)) fail(source, `header length ${n} runs past the end of the file (${fileSize} bytes)`);
  return Number(n);
}

/**
 * Parses and validates the JSON header. `dataLength` is the size of the data section
 * (file size - 8 - N); every tensor must lie inside it, tensors may not overlap, and together
 * they must cover it with no gap (as the format requires).
 */
export function parseHeader(headerBytes: Uint8Array, dataLength: number, source = 'safetensors'): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    fail(source, 'the header is not UTF-8');
  }
  // The format allows trailing spaces (padding to 8-byte alignment) and nothing else odd.
  if (!text.startsWith('{')) fail(source, 'the header does not start with "{"');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    // V8's message quotes the text it could not parse: never echo a file's bytes.
    const at = /position (\d+)/.exec((e as Error).message);
    fail(source, `the header is not JSON${at ? ` (at byte ${8 + Number(at[1])})` : ''}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(source, 'the header is not a JSON object');

  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  const problems: string[] = [];
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        problems.push('__metadata__ is not an object');
        continue;
      }
      for (const [k, v] of Object.entries(raw)) if (typeof v !== 'string') problems.push(`__metadata__.${k} is not a string`);
      metadata = raw as Record<string, string>;
      continue;
    }
    const info = checkEntry(name, raw, dataLength, problems);
    if (info) tensors.set(name, info);
    if (problems.length > 20) break;
  }
  if (problems.length === 0) {
    // No overlaps and no holes: sorted by begin, each starts where the previous ended.
    const sorted = [...tensors.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
    let at = 0;
    for (const t of sorted) {
      if (t.begin < at) problems.push(`tensor "${t.name}" [${t.begin}, ${t.end}) overlaps the one before it (ends at ${at})`);
      else if (t.begin > at) problems.push(`bytes [${at}, ${t.begin}) before tensor "${t.name}" belong to no tensor`);
      at = Math.max(at, t.end);
    }
    if (problems.length === 0 && at !== dataLength) problems.push(`the data section has ${dataLength} bytes but the tensors cover ${at}`);
  }
  if (problems.length > 0) fail(source, problems.slice(0, 20).join('; ') + (problems.length > 20 ? '; ...' : ''));
  return { tensors, metadata, dataStart: 8 + headerBytes.length };
}

function checkEntry(name: string, raw: unknown, dataLength: number, problems: string[]): TensorInfo | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push(`tensor "${name}" is not an object`);
    return undefined;
  }
  const e = raw as Record<string, unknown>;
  const dtype = e.dtype;
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) {
    problems.push(`tensor "${name}" has unknown dtype ${JSON.stringify(dtype)}`);
    return undefined;
  }
  const shape = e.shape;
  if (!Array.isArray(shape) || shape.length > MAX_DIMS || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    problems.push(`tensor "${name}" has a bad shape ${JSON.stringify(shape)}`);
    return undefined;
  }
  const offs = e.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    problems.push(`tensor "${name}" has bad data_offsets ${JSON.stringify(offs)}`);
    return undefined;
  }
  const [begin, end] = offs as [number, number];
  if (begin > end || end > dataLength) {
    problems.push(`tensor "${name}" data_offsets [${begin}, ${end}] lie outside the ${dataLength}-byte data section`);
    return undefined;
  }
  let count = 1;
  for (const d of shape as number[]) count *= d;
  const want = count * DTYPE_BYTES[dtype as Dtype];
  if (!Number.isSafeInteger(want) || want !== end - begin) {
    problems.push(`tensor "${name}" of shape [${(shape as number[]).join(', ')}] ${dtype} needs ${want} bytes but data_offsets give ${end - begin}`);
    return undefined;
  }
  return { name, dtype: dtype as Dtype, shape: [...(shape as number[])], begin, end };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Converts one tensor's raw little-endian bytes to float32 values. */
export function toFloat32(info: TensorInfo, bytes: Uint8Array): Float32Array {
  const n = (info.end - info.begin) / DTYPE_BYTES[info.dtype];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  switch (info.dtype) {
    case 'F32':
      if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) out.set(new Float32Array(bytes.buffer, bytes.byteOffset, n));
      else if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes);
      else for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = f16ToF32(view.getUint16(2 * i, true));
      return out;
    case 'BF16': {
      const u = new Uint32Array(out.buffer);
      // Same host byte order on both sides of the Uint32Array/Float32Array pair: endian-safe.
      for (let i = 0; i < n; i++) u[i] = view.getUint16(2 * i, true) << 16;
      return out;
    }
    default:
      throw new SafetensorsError(`tensor "${info.name}" is ${info.dtype}, not a floating-point dtype (${FLOAT_DTYPES.join(', ')})`);
  }
}

/** Something tensors can be read from: a file on disk or bytes in memory. */
export interface TensorSource {
  readonly source: string;
  readonly header: SafetensorsHeader;
  /** The tensor's raw bytes (little-endian, as stored). */
  raw(name: string): Uint8Array;
  /** The tensor as float32 (F32, F16, BF16 and F64 are converted). */
  float32(name: string): Float32Array;
  close(): void;
}

/** Parses safetensors bytes held in memory. */
export function parseSafetensors(bytes: Uint8Array, source = 'safetensors', maxHeaderBytes = MAX_HEADER_BYTES): TensorSource {
  const n = headerLength(bytes, bytes.length, source, maxHeaderBytes);
  const header = parseHeader(bytes.subarray(8, 8 + n), bytes.length - 8 - n, source);
  const raw = (name: string): Uint8Array => {
    const t = header.tensors.get(name);
    if (!t) throw new SafetensorsError(`${source}: no tensor named "${name}"`);
    return bytes.subarray(header.dataStart + t.begin, header.dataStart + t.end);
  };
  return { source, header, raw, float32: (name) => {
      const bytesOf = raw(name);
      return toFloat32(header.tensors.get(name)!, bytesOf);
    },
    close: () => {},
  };
}

/**
 * Opens a safetensors file and reads only its header; tensors are read one at a time on demand,
 * so a file larger than memory (or than a Node buffer) is fine.
 */
export function openSafetensors(path: string, maxHeaderBytes = MAX_HEADER_BYTES): TensorSource {
  let fd: number | undefined;
  try {
    fd = openSync(path, READ_FLAGS); // non-blocking: a FIFO is refused below instead of hanging here
  } catch (e) {
    throw new UserError(`cannot open ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new SafetensorsError(`${path} is not a regular file (${stat.isFIFO() ? 'a FIFO' : stat.isDirectory() ? 'a folder' : 'a device or socket'})`);
    const size = stat.size;
    if (size < 8) fail(path, `${size} bytes is shorter than the 8-byte header length${size === 0 ? ' (the file is empty)' : ''}`);
    const prefix = Buffer.alloc(8);
    readFully(fd, prefix, 0, path);
    const n = headerLength(prefix, size, path, maxHeaderBytes);
    const hb = Buffer.alloc(n);
    readFully(fd, hb, 8, path);
    const header = parseHeader(hb, size - 8 - n, path);
    const openFd = fd;
    let closed = false;
    const raw = (name: string): Uint8Array => {
      if (closed) throw new Error(`${path} is closed`);
      const t = header.tensors.get(name);
      if (!t) throw new SafetensorsError(`${path}: no tensor named "${name}"`);
      const buf = Buffer.alloc(t.end - t.begin);
      readFully(openFd, buf, header.dataStart + t.begin, path);
      return buf;
    };
    return {
      source: path,
      header,
      raw,
      float32: (name) => {
        const bytesOf = raw(name);
        return toFloat32(header.tensors.get(name)!, bytesOf);
      },
      close: () => {
        if (!closed) closeSync(openFd);
        closed = true;
      },
    };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

function readFully(fd: number, buf: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < buf.length) {
    const got = readSync(fd, buf, done, Math.min(buf.length - done, 1 << 30), position + done);
    if (got === 0) throw new SafetensorsError(`${path}: unexpected end of file at byte ${position + done} (it changed while being read?)`);
    done += got;
  }
}

/** A float32 tensor to write (weights: every state_dict tensor skipgraph writes is one). */
export interface Float32ToWrite {
  dtype?: 'F32';
  shape: number[];
  data: Float32Array;
}

/** A tensor to write: float32 (the default dtype), or uint8 / int32 (data files: pixels, labels). */
export type TensorToWrite =
  | Float32ToWrite
  | { dtype: 'U8'; shape: number[]; data: Uint8Array }
  | { dtype: 'I32'; shape: number[]; data: Int32Array };

const ELEMENT_BYTES = { F32: 4, U8: 1, I32: 4 } as const;

/**
 * Serializes tensors (in the given order) and optional string metadata. Each tensor starts at a
 * multiple of its element size (zero bytes between, only after a uint8 tensor of odd length), so
 * float32-only files are packed exactly as before.
 */
export function serializeSafetensors(tensors: Record<string, TensorToWrite> | Map<string, TensorToWrite>, metadata?: Record<string, string>): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const starts: number[] = [];
  let at = 0;
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new Error('"__metadata__" is reserved and cannot name a tensor');
    const dtype = t.dtype ?? 'F32';
    const size = ELEMENT_BYTES[dtype];
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`tensor "${name}": shape [${t.shape.join(', ')}] holds ${count} values, data has ${t.data.length}`);
    at = Math.ceil(at / size) * size;
    starts.push(at);
    header[name] = { dtype, shape: t.shape, data_offsets: [at, at + size * count] };
    at += size * count;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8; // pad with spaces so the data starts 8-aligned
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + at);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  entries.forEach(([, t], k) => {
    const pos = 8 + json.length + starts[k];
    if (LITTLE_ENDIAN || t.dtype === 'U8') out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    else if (t.dtype === 'I32') for (let i = 0; i < t.data.length; i++) view.setInt32(pos + 4 * i, t.data[i], true);
    else for (let i = 0; i < t.data.length; i++) view.setFloat32(pos + 4 * i, t.data[i], true);
  });
  return out;
}

export function writeSafetensors(path: string, tensors: Record<string, TensorToWrite> | Map<string, TensorToWrite>, metadata?: Record<string, string>): void {
  writeFileSync(path, serializeSafetensors(tensors, metadata));
}
