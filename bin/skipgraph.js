#!/usr/bin/env node
// Thin launcher: the CLI is written in TypeScript and compiled to dist/ (`npm run build`). The
// published package also ships dist/cli-bundle/ (scripts/bundle-cli.mjs, at `npm pack`): the same
// code in fewer files, which starts faster; it runs when it is at least as new as dist/cli/main.js,
// so a clone's rebuilt dist/ is never shadowed by an older bundle.
// Whatever escapes main (or is thrown later, in a callback) ends in the last-resort handler:
// a few lines, "internal error, please report" for a bug, never a stack trace (SKIPGRAPH_DEBUG=1 shows it).
import { statSync } from 'node:fs';
import module from 'node:module';

// Node 22.1+ keeps compiled code between runs (start-up is mostly loading modules); Node 20 has no
// such API and starts as before.
module.enableCompileCache?.();

const mtime = (rel) => {
  try {
    return statSync(new URL(rel, import.meta.url)).mtimeMs;
  } catch {
    return undefined;
  }
};
const bundled = mtime('../dist/cli-bundle/skipgraph.js');
const built = mtime('../dist/cli/main.js');
const { exitQuietlyOnClosedPipe, installLastResort, main } =
  bundled !== undefined && (built === undefined || bundled >= built)
    ? await import('../dist/cli-bundle/skipgraph.js')
    : await Promise.all([import('../dist/cli/io.js'), import('../dist/cli/last_resort.js'), import('../dist/cli/main.js')]).then((ms) => Object.assign({}, ...ms));

installLastResort(process.argv);
exitQuietlyOnClosedPipe(); // `skipgraph ... | head -1`: exit 0, nothing on stderr
main(process.argv).then((code) => {
  process.exitCode = code;
});
