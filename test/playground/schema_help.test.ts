import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { complete, hover } from '../../playground/src/schema_help.js';

const schema = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'schemas', 'architecture.schema.json'), 'utf8')) as { $defs: { shortcut: { enum: string[] } } };

/** The editor's completion and hover, from schemas/architecture.schema.json, on half-typed text. */
const at = (text: string) => ({ text: text.replace('|', ''), pos: text.indexOf('|') });
const labels = (text: string) => {
  const { text: t, pos } = at(text);
  return complete(t, pos).options.map((o) => o.label);
};

describe('schema completion and hover', () => {
  it('top-level keys at the start of a line, with the typed prefix as the range', () => {
    const { text, pos } = at('name: x\nsta|');
    const r = complete(text, pos);
    expect(r.options.map((o) => o.label)).toEqual(expect.arrayContaining(['stages', 'stem', 'stage_defaults', 'input', 'classes', 'head']));
    expect(text.slice(r.from, r.to)).toBe('sta');
    expect(r.options.find((o) => o.label === 'stem')!.info).toBe('Layers before the first stage.');
  });

  it('keys of a stage item in a flow map, without those already written', () => {
    const got = labels('stages:\n  - { block: basic, |');
    expect(got).toEqual(expect.arrayContaining(['channels', 'blocks', 'stride']));
    expect(got).not.toContain('block');
    expect(got).not.toContain('stem');
  });

  it('keys of input in a block map, and of a layer narrowed by its op', () => {
    expect(labels('input:\n  heig|')).toEqual(expect.arrayContaining(['height', 'width', 'channels']));
    const conv = labels('stem:\n  - { op: conv, |');
    expect(conv).toEqual(expect.arrayContaining(['filters', 'kernel', 'stride']));
    expect(labels('stem:\n  - { op: relu, |')).not.toContain('filters');
  });

  it('values: the shortcut rules and the layer ops', () => {
    // Exactly the schema's rules, in its order (read from the schema: a new rule needs no edit here).
    expect(schema.$defs.shortcut.enum).toEqual(expect.arrayContaining(['projection', 'identity', 'zeropad', 'conv', 'avgdown']));
    expect(labels('shortcut: |')).toEqual(schema.$defs.shortcut.enum);
    expect(labels('head:\n  - { op: |')).toEqual(expect.arrayContaining(['conv', 'bn', 'relu', 'global_avg_pool', 'dense']));
  });

  it('hover on a key shows its schema description', () => {
    const { text, pos } = at('name: x\nst|em:\n  - { op: bn }');
    expect(hover(text, pos).doc).toBe('stem (array): Layers before the first stage.');
    const c = at('stages:\n  - { block: basic, chan|nels: 64 }');
    expect(hover(c.text, c.pos).doc).toMatch(/^channels/);
    // On a value: its key's description; on an unknown key: nothing.
    expect(hover('name: x', 7).doc).toBe("name (string): The network's name.");
    expect(hover('nmae: x', 2).doc).toBeUndefined();
  });
});
