/** The few Buffer members the parser touches on text (esbuild injects this for the global `Buffer`). */
const encoder = new TextEncoder();
export const Buffer = {
  byteLength: (s: string | Uint8Array): number => (typeof s === 'string' ? encoder.encode(s).length : s.byteLength),
  alloc: (n: number): Uint8Array => new Uint8Array(n),
  concat(chunks: Uint8Array[], total?: number): Uint8Array {
    const out = new Uint8Array(total ?? chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      out.set(c.subarray(0, out.length - at), at);
      at += c.length;
    }
    return out;
  },
  isBuffer: (): boolean => false,
  from: (s: string): Uint8Array => encoder.encode(s),
};
