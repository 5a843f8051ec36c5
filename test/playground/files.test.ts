import { build } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { architectures } from '../../playground/build.js';
import { compileFile } from '../../src/compiler/files.js';
import { shippedModels } from '../../src/parser/files.js';

/**
 * The page compiles through the pure entries with its own FileHost (playground/src/files.ts), not
 * through stand-ins for node:fs. Bundled for the browser exactly as playground/build.ts does
 * (platform browser, its plugin, which refuses any node:* import), then run here: every shipped
 * model, `extends` chains included, compiles in the page as on disk.
 */
const root = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'skipgraph-pg-files-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Compiled = { name: string; ok: boolean; params?: number; macs?: number; nodes?: number; codes: string[] };

async function bundle(): Promise<(text: string, file: string) => Compiled> {
  const out = join(tmp, 'page.mjs');
  await build({
    stdin: {
      contents: [
        `import { compileSource } from ${JSON.stringify(join(root, 'src/compiler/index.ts'))};`,
        `import { playgroundFiles } from ${JSON.stringify(join(root, 'playground/src/files.ts'))};`,
        'export function compile(text, file) {',
        "  const r = compileSource(text, { file, extendsRoot: '/', files: playgroundFiles });",
        '  const g = r.graph;',
        '  return { name: g?.name, ok: !!g, params: g?.totals.trainableParams, macs: g?.totals.macs, nodes: g?.nodes.length, codes: r.diagnostics.map((d) => d.code) };',
        '}',
      ].join('\n'),
      resolveDir: root,
      loader: 'ts',
    },
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'silent',
    plugins: [architectures],
  });
  return ((await import(pathToFileURL(out).href)) as { compile: (text: string, file: string) => Compiled }).compile;
}

describe('the playground compiles with its own files, no node:fs', () => {
  it('every shipped model, extends included, compiles in the page bundle as compileFile does on disk', async () => {
    const compile = await bundle();
    const models = shippedModels();
    const extending = models.filter((m) => /^extends:/m.test(readFileSync(m.path, 'utf8')));
    expect(extending.length).toBeGreaterThan(0); // the case the host exists for
    for (const m of models) {
      const r = compileFile(m.path);
      const disk = r.graph!;
      const page = compile(readFileSync(m.path, 'utf8'), `/${m.name}.yaml`);
      // Warnings included (efficientnet_b7's memory estimate at batch 32 is one).
      expect(page, m.name).toEqual({ name: disk.name, ok: true, params: disk.totals.trainableParams, macs: disk.totals.macs, nodes: disk.nodes.length, codes: r.diagnostics.map((d) => d.code) });
    }
  });

  it('a base the page does not have is extends-not-found at the extends line; a path out of "/" cannot be named', async () => {
    const compile = await bundle();
    expect(compile('extends: nothere.yaml\nname: x\n', '/x.yaml').codes).toEqual(['extends-not-found']);
    expect(compile('extends: /etc/passwd.yaml\nname: x\n', '/x.yaml').codes).toEqual(['extends-outside']);
  });
});
