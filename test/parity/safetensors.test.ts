import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors/index.js';
import {
  MAX_HEADER_BYTES,
  openSafetensors,
  parseSafetensors,
  SafetensorsError,
  serializeSafetensors,
  writeSafetensors,
} from '../../src/formats/safetensors.js';

const tmp = mkdtempSync(join(tmpdir(), 'skipgraph-safetensors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A file from a header object (or raw header text) and a data section. */
function file(header: unknown, data: Uint8Array = new Uint8Array(0), declaredLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const bad = (bytes: Uint8Array, pattern: RegExp, maxHeader?: number) => {
  expect(() => parseSafetensors(bytes, 'x.safetensors', maxHeader)).toThrowError(pattern);
  try {
    parseSafetensors(bytes, 'x.safetensors', maxHeader);
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).toMatch(/^x\.safetensors: not a valid safetensors file: /);
  }
};

describe('safetensors round trip', () => {
  it('writes F32 tensors and metadata that read back exactly, data 8-byte aligned', () => {
    const a = new Float32Array([1, -2.5, 3.25, Math.PI, -0, 1e-30]);
    const b = new Float32Array([7]);
    const bytes = serializeSafetensors({ 'layer1.0.conv1.weight': { shape: [1, 2, 3], data: a }, 'fc.bias': { shape: [1], data: b } }, { format: 'pt' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const src = parseSafetensors(bytes);
    expect([...src.header.tensors.keys()]).toEqual(['layer1.0.conv1.weight', 'fc.bias']);
    expect(src.header.tensors.get('layer1.0.conv1.weight')).toMatchObject({ dtype: 'F32', shape: [1, 2, 3], begin: 0, end: 24 });
    expect(src.header.metadata).toEqual({ format: 'pt' });
    expect([...src.float32('layer1.0.conv1.weight')]).toEqual([...a]);
    expect([...src.float32('fc.bias')]).toEqual([7]);
  });

  it('reads the same from disk, one tensor at a time', () => {
    const path = join(tmp, 'w.safetensors');
    const data = new Float32Array(1000).map((_, i) => i / 7);
    writeSafetensors(path, new Map([['w', { shape: [10, 100], data }], ['empty', { shape: [0, 3], data: new Float32Array(0) }]]));
    const src = openSafetensors(path);
    try {
      expect([...src.float32('w')]).toEqual([...data]);
      expect(src.float32('empty').length).toBe(0);
      expect(() => src.float32('nope')).toThrowError(/no tensor named "nope"/);
    } finally {
      src.close();
    }
  });

  it('round-trips any float32 tensors (property)', () => {
    const tensor = fc
      .array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 3 })
      .chain((shape) => fc.tuple(fc.constant(shape), fc.float32Array({ minLength: shape.reduce((a, b) => a * b, 1), maxLength: shape.reduce((a, b) => a * b, 1) })));
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k !== '__metadata__' && k !== '__proto__'), tensor, { maxKeys: 5 }), (dict) => {
        const tensors = Object.fromEntries(Object.entries(dict).map(([k, [shape, data]]) => [k, { shape, data }]));
        const src = parseSafetensors(serializeSafetensors(tensors));
        for (const [k, [shape, data]] of Object.entries(dict)) {
          expect(src.header.tensors.get(k)!.shape).toEqual(shape);
          expect(Object.is(src.float32(k)[0], data[0]) || data.length === 0 || (Number.isNaN(src.float32(k)[0]) && Number.isNaN(data[0]))).toBe(true);
          expect(Buffer.from(src.raw(k))).toEqual(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('converts F16, BF16 and F64 to float32; refuses integer tensors as weights', () => {
    const f16 = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001, 0x7c00, 0x0000]).buffer); // 1, -2, ~0.333, 2^-24, inf, 0
    const bf16 = new Uint8Array(new Uint16Array([0x3f80, 0xc040]).buffer); // 1, -3
    const f64 = new Uint8Array(new Float64Array([0.1, -1e10]).buffer);
    const i64 = new Uint8Array(8);
    let at = 0;
    const entry = (dtype: string, shape: number[], n: number) => {
      const e = { dtype, shape, data_offsets: [at, at + n] };
      at += n;
      return e;
    };
    const header = { a: entry('F16', [6], 12), b: entry('BF16', [2], 4), c: entry('F64', [2], 16), d: entry('I64', [], 8) };
    const src = parseSafetensors(file(header, Buffer.concat([f16, bf16, f64, i64])));
    const a = src.float32('a');
    expect([a[0], a[1], a[3], a[4], a[5]]).toEqual([1, -2, 2 ** -24, Infinity, 0]);
    expect(a[2]).toBeCloseTo(1 / 3, 3);
    expect([...src.float32('b')]).toEqual([1, -3]);
    expect([...src.float32('c')]).toEqual([Math.fround(0.1), -1e10]);
    expect(() => src.float32('d')).toThrowError(/I64, not a floating-point dtype/);
  });

  it('accepts space padding after the JSON and an unaligned header', () => {
    const data = new Uint8Array(new Float32Array([2, 3]).buffer);
    const src = parseSafetensors(file(`{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}   `, data));
    expect([...src.float32('t')]).toEqual([2, 3]);
  });
});

describe('safetensors validation', () => {
  const f32 = (n: number) => new Uint8Array(4 * n);
  const t = (shape: number[], begin: number, end: number, dtype = 'F32') => ({ dtype, shape, data_offsets: [begin, end] });

  it('refuses files too short for the length, lengths past the end or over the limit', () => {
    bad(new Uint8Array(3), /shorter than the 8-byte header length/);
    bad(file({}, new Uint8Array(0), 1000n), /header length 1000 runs past the end of the file/);
    bad(file({}, new Uint8Array(0), 2n ** 63n), /over the limit of 100000000 bytes/);
    bad(file({ t: t([2], 0, 8) }, f32(2)), /over the limit of 16 bytes/, 16);
    bad(file('', new Uint8Array(0)), /too small/);
    expect(MAX_HEADER_BYTES).toBe(100_000_000);
  });

  it('refuses headers that are not a UTF-8 JSON object', () => {
    bad(file('{"a": 1'), /not JSON/);
    bad(file('[1, 2]'), /does not start with "\{"/);
    bad(file(' {}'), /does not start with "\{"/);
    const latin1 = file('{"\u00ff": 1}');
    latin1.set([0xff], 10);
    bad(latin1, /not UTF-8/);
    bad(file('{"t": 5}'), /tensor "t" is not an object/);
  });

  it('refuses unknown dtypes, bad shapes and bad offsets, naming the tensor', () => {
    bad(file({ t: t([2], 0, 8, 'F8') }, f32(2)), /tensor "t" has unknown dtype "F8"/);
    bad(file({ t: t([-2], 0, 8) }, f32(2)), /tensor "t" has a bad shape \[-2\]/);
    bad(file({ t: t([1.5], 0, 8) }, f32(2)), /bad shape/);
    bad(file({ t: { dtype: 'F32', shape: 'x', data_offsets: [0, 0] } }), /bad shape "x"/);
    bad(file({ t: { dtype: 'F32', shape: [1], data_offsets: [0] } }, f32(1)), /bad data_offsets \[0\]/);
    bad(file({ t: t([2], 8, 0) }, f32(2)), /lie outside the 8-byte data section/);
    bad(file({ t: t([4], 0, 16) }, f32(2)), /lie outside the 8-byte data section/);
    bad(file({ t: t([3], 0, 8) }, f32(2)), /shape \[3\] F32 needs 12 bytes but data_offsets give 8/);
    bad(file({ t: t([2 ** 30, 2 ** 30, 2 ** 30], 0, 8) }, f32(2)), /needs .* bytes but data_offsets give 8/);
  });

  it('refuses overlapping tensors, holes and trailing bytes', () => {
    bad(file({ a: t([2], 0, 8), b: t([2], 4, 12) }, f32(3)), /tensor "b" \[4, 12\) overlaps/);
    bad(file({ a: t([1], 0, 4), b: t([1], 8, 12) }, f32(3)), /bytes \[4, 8\) before tensor "b" belong to no tensor/);
    bad(file({ a: t([1], 0, 4) }, f32(3)), /the data section has 12 bytes but the tensors cover 4/);
  });

  it('refuses metadata that is not a map of strings', () => {
    bad(file({ __metadata__: { a: 1 } }), /__metadata__\.a is not a string/);
    bad(file({ __metadata__: [1] }), /__metadata__ is not an object/);
  });

  it('reports a missing file or a folder as a user error', () => {
    expect(() => openSafetensors(join(tmp, 'absent.safetensors'))).toThrowError(/cannot open .*absent\.safetensors: ENOENT/);
    expect(() => openSafetensors(tmp)).toThrowError(UserError);
    expect(() => openSafetensors(tmp)).toThrowError(/is not a regular file|EISDIR/);
  });

  it('validates on disk too, before reading any data', () => {
    const path = join(tmp, 'bad.safetensors');
    writeFileSync(path, file({ a: t([4], 0, 16) }, f32(1)));
    expect(() => openSafetensors(path)).toThrowError(/bad\.safetensors: not a valid safetensors file: tensor "a"/);
  });
});
