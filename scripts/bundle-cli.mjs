// Bundles the built CLI (dist/cli/main.js and everything it imports, TF.js and the other optional
// peers left outside) into dist/cli-bundle/ (main.js, and a chunk per module loaded
// on demand, so a command loads only its own code and TF.js stays lazy), run by `npm pack` (prepack). Start-up is
// mostly Node loading modules one by one; one file loads faster. bin/skipgraph.js runs the
// bundle when it is at least as new as dist/cli/main.js, else dist/ itself (a clone's build).
//
// Modules find files beside them with `new URL('../../..', import.meta.url)`: each module's
// `import.meta.url` is rewritten to the URL of its own file in dist/, so those paths still hold.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const outdir = `${dist}cli-bundle`;

const keepMetaUrl = {
  name: 'keep-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /[\\/]dist[\\/].*\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const rel = relative(outdir, args.path).split('\\').join('/');
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`), loader: 'js' };
    });
  },
};

rmSync(outdir, { recursive: true, force: true });
await build({
  // One entry for the three modules bin/skipgraph.js imports, so they share one copy of cli/io.js
  // (its state: the closed-pipe handling and the registry of files being written).
  stdin: {
    contents: "export { exitQuietlyOnClosedPipe } from './io.js';\nexport { installLastResort } from './last_resort.js';\nexport { main } from './main.js';\n",
    resolveDir: `${dist}cli`,
    sourcefile: 'cli-entry.js',
    loader: 'js',
  },
  outdir,
  entryNames: 'skipgraph',
  splitting: true,
  chunkNames: 'chunk-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // The optional peers stay imports (loaded on demand, refused with their install line).
  external: ['@tensorflow/*', 'onnxruntime-node', 'webgpu', 'mnist'],
  // CommonJS dependencies bundled into ESM call require for Node's own modules.
  banner: { js: "import { createRequire as __skipgraphRequire } from 'node:module'; const require = __skipgraphRequire(import.meta.url);" },
  plugins: [keepMetaUrl],
  logLevel: 'warning',
});
