/**
 * Builds the playground as a static site: dist/playground/ (or the folder given as the first
 * argument). Three bundles, so each part's weight is visible and the compiler loads alone:
 *   main.js            the page: CodeMirror, views, controls (no compiler, no TF.js)
 *   compile.worker.js  skipgraph's parser and compiler (the public API) plus the schema help
 *   train.worker.js    TF.js (webgpu, webgl, wasm backends) and skipgraph's runtime model builder
 * plus the TF.js wasm binaries, the shipped architectures and a bundled set of MNIST digits.
 * Usage: npm run build:playground [-- OUT]
 */
import { build, type Plugin } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { shippedModels } from '../src/parser/files.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const require = createRequire(import.meta.url);

/** Digits bundled for training: this many of each class from the `mnist` package (28x28, 0..255). */
export const DIGITS_PER_CLASS = 200;

/**
 * The shipped models as a module (`virtual:architectures`), for the page's FileHost
 * (playground/src/files.ts). Nothing else is stood in for: the parser and compiler the page bundles open no
 * file (their Node entries, src/parser/files.ts and src/compiler/files.ts, are not imported), so
 * any node:* import reaching the bundle is an error.
 */
export const architectures: Plugin = {
  name: 'architectures',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (a) => ({ errors: [{ text: `${a.path} reached the browser bundle (imported from ${a.importer}): import the pure entries, src/parser/index.ts and src/compiler/index.ts` }] }));
    b.onResolve({ filter: /^virtual:architectures$/ }, () => ({ path: 'architectures', namespace: 'virtual' }));
    b.onLoad({ filter: /.*/, namespace: 'virtual' }, () => {
      // The shipped-model table the CLI's `list` and the API use (src/parser/files.ts).
      const list = shippedModels().map((m) => ({ name: m.name, equals: m.equals, text: readFileSync(m.path, 'utf8') }));
      return { contents: `export default ${JSON.stringify(list)};`, loader: 'js' };
    });
  },
};

function digits(): Uint8Array {
  // Layout: [count u32][labels u8 x count][pixels u8 x count*784], classes interleaved.
  const per: number[][] = [];
  for (let d = 0; d < 10; d++) per.push((JSON.parse(readFileSync(require.resolve(`mnist/src/digits/${d}.json`), 'utf8')) as { data: number[] }).data);
  const count = DIGITS_PER_CLASS * 10;
  const out = new Uint8Array(4 + count + count * 784);
  new DataView(out.buffer).setUint32(0, count, true);
  let k = 0;
  for (let i = 0; i < DIGITS_PER_CLASS; i++) {
    for (let d = 0; d < 10; d++, k++) {
      out[4 + k] = d;
      const src = per[d];
      for (let p = 0; p < 784; p++) out[4 + count + k * 784 + p] = Math.round(src[i * 784 + p] * 255);
    }
  }
  return out;
}

export interface BundleSizes {
  [file: string]: { bytes: number; gzip: number };
}

export async function buildPlayground(out = join(root, 'dist', 'playground')): Promise<BundleSizes> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const entries = ['main', 'compile.worker', 'train.worker'];
  await build({
    entryPoints: Object.fromEntries(entries.map((e) => [e, join(here, 'src', `${e}.ts`)])),
    outdir: out,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [architectures],
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  copyFileSync(join(here, 'index.html'), join(out, 'index.html'));
  copyFileSync(join(here, 'style.css'), join(out, 'style.css'));
  const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  for (const f of readdirSync(join(wasmDir, 'dist')).filter((f) => f.endsWith('.wasm'))) copyFileSync(join(wasmDir, 'dist', f), join(out, f));
  writeFileSync(join(out, 'digits.bin'), digits());
  const sizes: BundleSizes = {};
  for (const f of readdirSync(out).sort()) {
    const b = readFileSync(join(out, f));
    sizes[f] = { bytes: b.length, gzip: gzipSync(b).length };
  }
  writeFileSync(join(out, 'sizes.json'), JSON.stringify(sizes, null, 2) + '\n');
  return sizes;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const sizes = await buildPlayground(process.argv[2] ? resolve(process.argv[2]) : undefined);
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  for (const [f, s] of Object.entries(sizes)) console.log(`${f.padEnd(40)} ${kb(s.bytes).padStart(10)}  gzip ${kb(s.gzip).padStart(9)}`);
}
