import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../src/compiler/files.js';
import { arch } from '../helpers/yaml.js';
import { requireClassifier } from '../../src/compiler/index.js';

describe('extends bases are reused only while unchanged', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skipgraph-cache-'));
  const base = join(dir, 'base.yaml');
  const child = join(dir, 'child.yaml');
  writeFileSync(base, arch());
  writeFileSync(child, 'extends: base.yaml\nname: child\n');

  it('a --set on one compile does not leak into the next (the cached tree is copied)', () => {
    const a = compileFile(child, { sets: ['stages.0.blocks=3'] });
    expect(a.graph!.stages[0].blocks).toBe(3);
    const b = compileFile(child);
    expect(b.graph!.stages[0].blocks).toBe(1);
  });

  it('an edited base is read again', () => {
    expect(requireClassifier(compileFile(child).graph!, 'this test').classes).toBe(10);
    writeFileSync(base, arch().replace('classes: 10', 'classes: 7'));
    utimesSync(base, new Date(), new Date(Date.now() + 5000)); // a new modification time even on coarse clocks
    const r = compileFile(child);
    expect(requireClassifier(r.graph!, 'this test').classes).toBe(7);
    // Diagnostics still quote the base's text.
    expect(r.sources.get([...r.sources.keys()].find((k) => k.endsWith('base.yaml'))!)).toContain('classes: 7');
  });
});
