import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { architectureSchema, BUILTIN_BLOCKS, LAYER_OPS } from '../../src/parser/index.js';

const doc = readFileSync(new URL('../../docs/dsl.md', import.meta.url), 'utf8');

/** Every property name anywhere in the schema, every op and every enum value. */
function names(schema: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) schema.forEach((s) => names(s, out));
  else if (schema && typeof schema === 'object') {
    const s = schema as Record<string, unknown>;
    if (s.properties && typeof s.properties === 'object') for (const k of Object.keys(s.properties)) out.add(k);
    if (Array.isArray(s.enum)) for (const v of s.enum) out.add(String(v));
    if (typeof s.const === 'string') out.add(s.const);
    for (const v of Object.values(s)) names(v, out);
  }
  return out;
}

describe('the schema, the docs and the AST stay in step', () => {
  it('docs/dsl.md documents every schema property, op and enum value', () => {
    const all = [...names(architectureSchema)];
    expect(all.length).toBeGreaterThan(40);
    const undocumented = all.filter((n) => !doc.includes('`' + n + '`'));
    expect(undocumented).toEqual([]);
  });

  it('the parser knows the same ops and built-in blocks as the schema and the docs', () => {
    const schemaOps = architectureSchema.$defs.layer.oneOf.map((b: any) => b.properties.op.const);
    expect([...LAYER_OPS]).toEqual(schemaOps);
    for (const b of BUILTIN_BLOCKS) expect(doc).toContain('`' + b + '`');
    expect(architectureSchema.$defs.shortcut.enum).toEqual(['projection', 'identity', 'zeropad', 'conv', 'avgdown', 'identity_or_none', 'none']);
  });
});
