import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPlayground } from '../../playground/build.js';
import { playgroundDir } from '../../src/cli/commands/playground.js';

/**
 * docs/playground.md's commands as written: `npm run build:playground` (its script, the same
 * function) and `npx skipgraph playground architectures/resnet50.yaml`, run as a child process
 * that prints its URL, serves the page and the file, and stops cleanly on SIGTERM.
 */
const root = join(import.meta.dirname, '..', '..');
const doc = readFileSync(join(root, 'docs', 'playground.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

describe('docs/playground.md commands', () => {
  it('lists exactly the commands this test runs', () => {
    const blocks = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1].trim());
    expect(blocks).toEqual(['npx skipgraph playground architectures/resnet50.yaml', 'npm run build:playground']);
    expect(pkg.scripts['build:playground']).toBe('node --import tsx playground/build.ts');
  });

  it('npm run build:playground, then skipgraph playground FILE prints its URL and serves the page and the file', async () => {
    const sizes = await buildPlayground();
    expect(Object.keys(sizes)).toEqual(expect.arrayContaining(['index.html', 'main.js', 'compile.worker.js', 'train.worker.js', 'digits.bin']));
    expect(readFileSync(join(playgroundDir(), 'index.html'), 'utf8')).toContain('<meta name="skipgraph-mode" content="static">');
    const script = "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(['node', 'skipgraph', ...process.argv.slice(1)]);";
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, 'playground', 'architectures/resnet50.yaml'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const url = await new Promise<string>((ok, fail) => {
      child.stdout.on('data', (d) => {
        out += d;
        const m = /skipgraph playground: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) ok(m[1]);
      });
      child.on('exit', (code) => fail(new Error(`exited ${code} before printing a URL: ${out}${err}`)));
    });
    try {
      const page = await (await fetch(url)).text();
      expect(page).toContain('<meta name="skipgraph-mode" content="file">');
      const file = (await (await fetch(`${url}api/file`)).json()) as { name: string; text: string };
      expect(file).toEqual({ name: join('architectures', 'resnet50.yaml'), text: readFileSync(join(root, 'architectures', 'resnet50.yaml'), 'utf8') });
      // A page on another name that resolves here (DNS rebinding) is refused.
      const status = await new Promise<number | undefined>((ok, fail) => get(`${url}api/file`, { headers: { host: 'evil.example' } }, (res) => (res.resume(), ok(res.statusCode))).on('error', fail));
      expect(status).toBe(403);
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise<number | null>((ok) => child.on('exit', ok));
    expect(code).toBe(0);
    expect(err).toBe('');
  });
});
