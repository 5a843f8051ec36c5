#!/usr/bin/env node
// Thin launcher: the CLI is written in TypeScript and compiled to dist/ (`npm run build`; the
// published package ships it built). Whatever escapes main (or is thrown later, in a callback)
// ends in the last-resort handler: a few lines, "internal error, please report" for a bug, never a
// stack trace (SKIPGRAPH_DEBUG=1 shows it).
import module from 'node:module';

// Node 22.1+ keeps compiled code between runs (start-up is mostly loading modules); Node 20 has no
// such API and starts as before.
module.enableCompileCache?.();

const [{ exitQuietlyOnClosedPipe }, { installLastResort }, { main }] = await Promise.all([
  import('../dist/cli/io.js'),
  import('../dist/cli/last_resort.js'),
  import('../dist/cli/main.js'),
]);

installLastResort(process.argv);
exitQuietlyOnClosedPipe(); // `skipgraph ... | head -1`: exit 0, nothing on stderr
main(process.argv).then((code) => {
  process.exitCode = code;
});
