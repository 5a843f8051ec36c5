/**
 * Shipped models by name: `compile resnet50`, `extends: resnet50` and the API resolve to the
 * package's architectures/ with no --extends-root; a local file of that name wins; `list` prints
 * the table (params, MACs, the reference model each equals).
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../src/compiler/files.js';
import { locateArchitecture, shippedArchitecture, shippedModels } from '../../src/parser/files.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'skipgraph-shipped-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('shipped models by name', () => {
  it('the table lists every shipped file, each with the model it equals', () => {
    const files = readdirSync('architectures').filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();
    const table = shippedModels();
    expect(table.map((m) => m.name)).toEqual(files);
    // A new shipped file needs its `# equals: ...` comment line (torchvision.models.X, timm X, or none (...)).
    expect(table.filter((m) => m.equals === 'unknown').map((m) => m.name), 'shipped files without an `# equals:` line').toEqual([]);
    expect(table.find((m) => m.name === 'resnet50')?.equals).toBe('torchvision.models.resnet50');
    expect(shippedArchitecture('resnet50')).toBe(resolve('architectures/resnet50.yaml'));
    expect(shippedArchitecture('../package')).toBeUndefined();
  });

  it('compileFile takes a shipped name; a name that is neither a file nor shipped is file-not-found, pointing at `skipgraph list`', () => {
    expect(compileFile('resnet50').graph?.totals.trainableParams).toBe(25_557_032);
    const r = compileFile('resnet5000');
    expect(r.diagnostics.map((d) => d.code)).toEqual(['file-not-found']);
    expect(r.diagnostics[0].hint).toContain('skipgraph list');
  });

  it('`extends: resnet50` reaches the shipped file (and its own extends) with no --extends-root; a local resnet50.yaml wins', () => {
    const mine = join(dir, 'mine.yaml');
    writeFileSync(mine, 'extends: resnet50\nname: mine\n');
    expect(compileFile(mine).graph?.totals.trainableParams).toBe(25_557_032);
    writeFileSync(join(dir, 'resnet50.yaml'), 'extends: resnet18\nname: local\n'); // local wins, and itself extends the shipped resnet18
    const g = compileFile(mine).graph;
    expect(g?.name).toBe('mine');
    expect(g?.totals.trainableParams).toBe(11_689_512);
    writeFileSync(join(dir, 'bad.yaml'), 'extends: resnet5000\n');
    const bad = compileFile(join(dir, 'bad.yaml'));
    expect(bad.diagnostics[0]).toMatchObject({ code: 'extends-not-found', loc: { line: 1, col: 10 } });
    expect(bad.diagnostics[0].message).toContain('skipgraph ships no model named "resnet5000"');
  });

  it('locateArchitecture: an existing path is itself; a clone path falls back to the shipped file only where it is missing', () => {
    expect(locateArchitecture('architectures/resnet18.yaml')).toEqual({ path: 'architectures/resnet18.yaml' });
    expect(locateArchitecture('resnet18')).toEqual({ path: resolve('architectures/resnet18.yaml'), shipped: 'resnet18' });
    expect(locateArchitecture('nowhere/resnet18.yaml')).toEqual({ path: 'nowhere/resnet18.yaml' });
  });

  it('`list` prints each shipped model with trainable params, MACs and what it equals; `compile NAME` says on stderr which file it used', async () => {
    const r = await runCli('list');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^resnet18\s+224x224x3\s+11,689,512\s+1\.81G\s+torchvision\.models\.resnet18$/m);
    expect(r.out).toMatch(/^mobilenet_v2\s+224x224x3\s+3,504,872\s+301M\s+torchvision\.models\.mobilenet_v2$/m);
    const c = await runCli('compile', 'resnet34');
    expect(c.code).toBe(0);
    expect(c.out).toMatch(/^resnet34: input 224x224x3/);
    expect(c.err.trim()).toBe("note: resnet34 is skipgraph's shipped resnet34 (architectures/resnet34.yaml)");
  });
});
