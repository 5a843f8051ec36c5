/**
 * The parser counts a text's bytes without Node's Buffer (so it runs in a browser as it is):
 * utf8Length must give Buffer.byteLength's answer, lone surrogates included, since the size
 * limits of a file and of an `extends` chain are set in bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8Length } from '../../src/parser/read.js';

describe('utf8Length', () => {
  it('equals Buffer.byteLength for any string, lone surrogates included', () => {
    for (const s of ['', 'a', 'é', '€', '😀', '\ud800', '\udc00x', 'a\ud83d', '\ud83d\ude00\ud83d']) expect(utf8Length(s), JSON.stringify(s)).toBe(Buffer.byteLength(s));
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: fc.integer({ min: 0xd700, max: 0xe000 }).map((c) => String.fromCharCode(c)) }), (a, b) => {
        expect(utf8Length(a + b)).toBe(Buffer.byteLength(a + b));
      }),
      { numRuns: 500, seed: 20261206 },
    );
  });
});
