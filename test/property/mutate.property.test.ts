/**
 * Property 3 (issue 5): random mutations of valid files (delete, duplicate or swap a line, retype
 * or renumber a value, insert hostile characters, cut the bytes at a random place) give either a
 * compiled graph or diagnostics whose every location is inside the text it names (line >= 1 and
 * within the file, column within the line) or synthetic (line 0). Any exception fails.
 *
 * FUZZ_RUNS=n sets the number of cases, FUZZ_SEED=n the seed (docs/reliability.md).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSource, type CompileResult } from '../../src/compiler/files.js';
import { formatDiagnostics, type Loc } from '../../src/parser/index.js';
import { archArb, runs, SEED, toYaml } from './arch.js';

const RUNS = runs(600);
/** Long runs (FUZZ_RUNS=100000) need more than vitest's default timeout. */
const TIMEOUT = Math.max(120_000, RUNS * 100);
const root = new URL('../../', import.meta.url).pathname;
const shipped = readdirSync(join(root, 'architectures'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => ({ file: join('architectures', f), text: readFileSync(join(root, 'architectures', f), 'utf8') }));

/** A valid file to start from: a shipped one (some use extends) or a generated one. */
const sourceArb = fc.oneof(
  fc.constantFrom(...shipped),
  archArb.map((a) => ({ file: 'generated.yaml', text: `# généré ✓\n${toYaml(a)}` })),
);

const VALUES = ['"x"', 'true', 'null', '~', '[]', '{}', '[1, 2, 3]', '{a: 1}', '-1', '0', '0.5', '-0', '.inf', '.nan', '1e400', '99999999999999999999', '0x10', '0o7', '$nope', '"$channels // 0"', '"$in * 99999999"', 'basic', 'bottleneck', 'identity', '__proto__', '&a x', '*a', '!!js/function f', '!!binary aGk=', '""', "'", '"', 'toString', 'constructor', 'valueOf', '_x', '"\\e]0;TITLE\\a"', '"\\u009b2J"'];
const INSERTS = ['\t', ':', ': ', '- ', '[', ']', '{', '}', ',', '&a ', '*a', '!t ', '!!str ', '\u0000', '\u0007', '\n', '\r\n', '  ', '#', '"', "'", '? ', '---\n', '...\n', '%YAML 1.2\n', '\uFEFF', 'é', '\u2028', '|\n', '>-\n', '<<: *a\n', 'extends: resnet18.yaml\n', 'extends: ../x.yaml\n', 'extends: /etc/passwd.yaml\n', '__proto__: 1\n', '%YAML 1.1\n---\n', '<<: {a: 1}\n', '"\\e]0;TITLE\\a": 1\n', 'name: toString\n', '\u202e', '\u009b'];

type Mutation =
  | { kind: 'delete' | 'duplicate'; line: number }
  | { kind: 'swap'; a: number; b: number }
  | { kind: 'retype'; token: number; value: string }
  | { kind: 'renumber'; token: number; value: number }
  | { kind: 'insert'; at: number; s: string }
  | { kind: 'cut'; at: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom('delete' as const, 'duplicate' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant('retype' as const), token: fc.nat(), value: fc.constantFrom(...VALUES) }),
  fc.record({ kind: fc.constant('renumber' as const), token: fc.nat(), value: fc.oneof(fc.integer({ min: -5, max: 300 }), fc.constantFrom(0, 1, 2 ** 31, 2 ** 53, -(2 ** 31), 65536, 65537, 1e21)) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), s: fc.constantFrom(...INSERTS) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
);

/** Applies mutations; the last step may turn the text into bytes (a cut can split a UTF-8 character). */
function mutate(text: string, ms: Mutation[]): string | Uint8Array {
  let t: string | Uint8Array = text;
  for (const m of ms) {
    if (typeof t !== 'string') t = Buffer.from(t).toString('utf8');
    const cur: string = t;
    const lines: string[] = cur.split('\n');
    switch (m.kind) {
      case 'delete':
        lines.splice(m.line % lines.length, 1);
        t = lines.join('\n');
        break;
      case 'duplicate': {
        const i = m.line % lines.length;
        lines.splice(i, 0, lines[i]);
        t = lines.join('\n');
        break;
      }
      case 'swap': {
        const [i, j] = [m.a % lines.length, m.b % lines.length];
        [lines[i], lines[j]] = [lines[j], lines[i]];
        t = lines.join('\n');
        break;
      }
      case 'retype':
      case 'renumber': {
        // Values: what follows ": " or "- " or sits in a flow collection; numbers for renumber.
        const re = m.kind === 'renumber' ? /-?\b\d+(?:\.\d+)?\b/g : /(?<=(?::|-|\[|,|\{)\s)[^\s,\]}{#][^,\]}{#\n]*/g;
        const hits = [...cur.matchAll(re)];
        if (hits.length === 0) break;
        const h = hits[m.token % hits.length];
        t = cur.slice(0, h.index) + String(m.value) + cur.slice(h.index! + h[0].length);
        break;
      }
      case 'insert': {
        const at = m.at % (cur.length + 1);
        t = cur.slice(0, at) + m.s + cur.slice(at);
        break;
      }
      case 'cut': {
        const bytes = Buffer.from(cur, 'utf8');
        t = new Uint8Array(bytes.subarray(0, m.at % (bytes.length + 1)));
        break;
      }
    }
  }
  return t;
}

function checkLoc(loc: Loc, r: CompileResult, what: string): void {
  if (loc.line === 0) {
    expect(loc.offset, `${what}: synthetic loc`).toBe(-1);
    return;
  }
  const text = r.sources.get(loc.file);
  if (text === undefined) throw new Error(`${what}: names ${loc.file}, which was not read (${[...r.sources.keys()].join(', ')})`);
  const lines = text.split('\n');
  if (!(loc.line >= 1 && loc.line <= lines.length)) throw new Error(`${what}: line ${loc.line} of ${lines.length}`);
  if (!(loc.col >= 1 && loc.col <= lines[loc.line - 1].length + 1)) throw new Error(`${what}: column ${loc.col} on a line of ${lines[loc.line - 1].length}`);
  if (!(loc.offset >= 0 && loc.offset <= text.length)) throw new Error(`${what}: offset ${loc.offset} of ${text.length}`);
}

describe('property: mutated files', () => {
  it(`compile or give located diagnostics, never throw (${RUNS} runs, seed ${SEED})`, () => {
    const outcomes = { compiled: 0, refused: 0 };
    const codes = new Map<string, number>();
    fc.assert(
      fc.property(sourceArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (src, ms) => {
        const input = mutate(src.text, ms);
        let r: CompileResult;
        try {
          r = compileSource(input, { file: src.file });
          // What the CLI prints must not throw either, and holds no raw control character.
          const printed = formatDiagnostics(r.diagnostics, { sources: r.sources }, r.dropped);
          if (/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(printed)) throw new Error(`a raw control character is printed: ${JSON.stringify(printed)}`);
        } catch (err) {
          throw new Error(`threw ${(err as Error).stack}\n--- mutations ${JSON.stringify(ms)} of ${src.file}`);
        }
        if (r.graph) {
          outcomes.compiled++;
          expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
          return;
        }
        outcomes.refused++;
        expect(r.diagnostics.length).toBeGreaterThan(0);
        for (const d of r.diagnostics) {
          codes.set(d.code, (codes.get(d.code) ?? 0) + 1);
          const what = `${d.code} "${d.message}" after ${JSON.stringify(ms)} of ${src.file}`;
          checkLoc(d.loc, r, what);
          for (const rel of d.related ?? []) checkLoc(rel.loc, r, `${what} (related)`);
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    // Both outcomes and a spread of codes, or the mutations are not doing their job.
    expect(outcomes.compiled).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(codes.size).toBeGreaterThan(8);
    if (process.env.FUZZ_REPORT) console.log(JSON.stringify({ runs: RUNS, seed: SEED, ...outcomes, codes: Object.fromEntries([...codes].sort((a, b) => b[1] - a[1])) }));
  }, TIMEOUT);
});
