#!/usr/bin/env node
// Thin launcher: the CLI is written in TypeScript and compiled to dist/ by `npm install` (prepare).
// Whatever escapes main (or is thrown later, in a callback) ends in the last-resort handler:
// a few lines, "internal error, please report" for a bug, never a stack trace (SKIPGRAPH_DEBUG=1 shows it).
import { exitQuietlyOnClosedPipe } from '../dist/cli/io.js';
import { installLastResort } from '../dist/cli/last_resort.js';
import { main } from '../dist/cli/main.js';

installLastResort(process.argv);
exitQuietlyOnClosedPipe(); // `skipgraph ... | head -1`: exit 0, nothing on stderr
main(process.argv).then((code) => {
  process.exitCode = code;
});
