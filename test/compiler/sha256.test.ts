/** The printers' SHA-256 (no node:crypto in the compiler) gives node:crypto's digests. */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256Base64 } from '../../src/compiler/printers/sha256.js';

describe('sha256Base64', () => {
  it("equals node:crypto's base64 SHA-256 for the FIPS examples, block edges and random text", () => {
    const node = (s: string) => createHash('sha256').update(s).digest('base64');
    expect(sha256Base64('abc')).toBe('ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=');
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 1000]) expect(sha256Base64('x'.repeat(n)), `length ${n}`).toBe(node('x'.repeat(n)));
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (s) => {
        expect(sha256Base64(s)).toBe(node(s));
      }),
      { numRuns: 300, seed: 20261206 },
    );
  });
});
