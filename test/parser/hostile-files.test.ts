/**
 * Issue 19, item 9 (files): a symlink swapped during `extends`, files moved mid-compile, and the
 * cost of a long `extends` chain.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../src/compiler/files.js';
import { MAX_EXTENDS_BYTES } from '../../src/parser/compose.js';
import { arch } from '../helpers/yaml.js';

const tmp = mkdtempSync(join(tmpdir(), 'sg-hostile-files-'));
const children: ChildProcess[] = [];
const stop = (c: ChildProcess) => {
  if (c.exitCode === null && c.signalCode === null && !c.killed) c.kill();
};
afterAll(() => {
  children.forEach(stop);
  rmSync(tmp, { recursive: true, force: true });
});

/**
 * Runs `body` (JavaScript, with `fs` in scope) over and over in a child node process in `dir`,
 * until stopped: renames and symlinks without forking a process per step.
 */
function loop(dir: string, body: string): ChildProcess {
  const c = spawn(process.execPath, ['-e', `const fs = require('node:fs'); for (;;) { try { ${body} } catch {} }`], { cwd: dir, stdio: 'ignore' });
  children.push(c);
  return c;
}

describe('extends reads the file it checked', () => {
  it('a symlink swapped between an inside file and an outside one never leaks the outside file', async () => {
    const root = join(tmp, 'swap/root');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(tmp, 'swap/secret.yaml'), arch().replace('name: tiny', 'name: SENTINEL_SECRET'));
    writeFileSync(join(root, 'inside.yaml'), arch());
    writeFileSync(join(root, 'top.yaml'), 'extends: base.yaml\ndescription: top\n');
    const swapper = loop(root, "fs.rmSync('l', { force: true }); fs.symlinkSync('inside.yaml', 'l'); fs.renameSync('l', 'base.yaml'); fs.symlinkSync('../secret.yaml', 'l'); fs.renameSync('l', 'base.yaml');");
    await new Promise((r) => setTimeout(r, 300));
    const seen = new Map<string, number>();
    try {
      for (let i = 0; i < 300; i++) {
        const r = compileFile(join(root, 'top.yaml'));
        const key = r.graph ? `ok:${r.graph.name}` : r.diagnostics.map((d) => d.code).join(',');
        seen.set(key, (seen.get(key) ?? 0) + 1);
        for (const text of r.sources.values()) expect(text).not.toContain('SENTINEL');
        for (const d of r.diagnostics) expect(d.message).not.toContain('SENTINEL');
      }
    } finally {
      stop(swapper);
    }
    // Both states were met: compiled from the inside file, refused for the outside one.
    expect([...seen.keys()].sort()).toEqual(expect.arrayContaining(['extends-outside', 'ok:tiny']));
    for (const k of seen.keys()) expect(['ok:tiny', 'extends-outside', 'extends-not-found']).toContain(k);
  });

  it('a file moved or removed mid-compile is a diagnostic, never an exception', async () => {
    const dir = join(tmp, 'move');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'base.yaml'), arch());
    writeFileSync(join(dir, 'top.yaml'), 'extends: base.yaml\ndescription: top\n');
    const mover = loop(dir, "fs.renameSync('top.yaml', 't.yaml'); fs.renameSync('t.yaml', 'top.yaml'); fs.renameSync('base.yaml', 'b.yaml'); fs.renameSync('b.yaml', 'base.yaml');");
    await new Promise((r) => setTimeout(r, 300));
    const seen = new Set<string>();
    try {
      for (let i = 0; i < 300; i++) {
        const r = compileFile(join(dir, 'top.yaml'));
        seen.add(r.graph ? 'ok' : r.diagnostics.map((d) => d.code).join(','));
      }
    } finally {
      stop(mover);
    }
    for (const k of seen) expect(['ok', 'file-not-found', 'extends-not-found']).toContain(k);
  });
});

describe('a removed working folder', () => {
  it('does not make compileFile throw (process.cwd() fails with ENOENT)', () => {
    const dir = join(tmp, 'cwd');
    mkdirSync(join(dir, 'gone'), { recursive: true });
    writeFileSync(join(dir, 'base.yaml'), arch());
    writeFileSync(join(dir, 'top.yaml'), 'extends: base.yaml\ndescription: top\n');
    const before = process.cwd();
    process.chdir(join(dir, 'gone'));
    rmSync(join(dir, 'gone'), { recursive: true });
    try {
      expect(() => process.cwd()).toThrow(/ENOENT/);
      const r = compileFile(join(dir, 'top.yaml'));
      expect(r.diagnostics).toEqual([]);
      expect(r.graph?.name).toBe('tiny');
      const missing = compileFile('relative.yaml');
      expect(missing.diagnostics.map((d) => d.code)).toEqual(['file-not-found']);
    } finally {
      process.chdir(before);
    }
  });
});

describe('an extends chain has one budget', () => {
  it(`refuses a chain holding more than ${MAX_EXTENDS_BYTES.toLocaleString('en-US')} bytes, at the extends line that passes it`, () => {
    const dir = join(tmp, 'chain');
    mkdirSync(dir, { recursive: true });
    const pad = (n: number) => `# ${'x'.repeat(n)}\n`;
    writeFileSync(join(dir, 'c.yaml'), arch() + pad(400_000));
    writeFileSync(join(dir, 'b.yaml'), 'extends: c.yaml\n' + pad(400_000));
    writeFileSync(join(dir, 'a.yaml'), 'extends: b.yaml\n' + pad(400_000));
    const r = compileFile(join(dir, 'a.yaml'));
    expect(r.diagnostics.map((d) => d.code)).toEqual(['limit-exceeded']);
    const d = r.diagnostics[0];
    expect(d.loc.file).toMatch(/b\.yaml$/);
    expect([d.loc.line, d.loc.col]).toEqual([1, 10]);
    expect(d.message).toMatch(/^With "c\.yaml" the "extends" chain holds 1,2\d\d,\d\d\d bytes in 3 files; a whole chain may hold 1,048,576\.$/);
    // Two of them fit.
    expect(compileFile(join(dir, 'b.yaml')).graph).toBeDefined();
  });

  it('refuses a chain of more than 16 files', () => {
    const dir = join(tmp, 'deep');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'f17.yaml'), arch());
    for (let i = 0; i < 17; i++) writeFileSync(join(dir, `f${i}.yaml`), `extends: f${i + 1}.yaml\n`);
    const r = compileFile(join(dir, 'f0.yaml'));
    expect(r.diagnostics.map((d) => [d.code, d.message])).toEqual([['extends-cycle', '"extends" chains more than 16 files.']]);
  });

  it('a FIFO as a base is refused without blocking', () => {
    const dir = join(tmp, 'fifo');
    mkdirSync(dir, { recursive: true });
    const mk = spawn('mkfifo', [join(dir, 'pipe.yaml')]);
    return new Promise<void>((done) =>
      mk.on('exit', () => {
        writeFileSync(join(dir, 'top.yaml'), 'extends: pipe.yaml\n');
        const r = compileFile(join(dir, 'top.yaml'));
        expect(r.diagnostics.map((d) => d.code)).toEqual(['extends-not-found']);
        expect(r.diagnostics[0].message).toMatch(/not a regular file/);
        done();
      }),
    );
  });
});
