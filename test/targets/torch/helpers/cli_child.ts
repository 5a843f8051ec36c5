/**
 * Runs the skipgraph CLI with this process's arguments, then says on stderr whether TensorFlow.js
 * was loaded: importing @tensorflow/tfjs-core creates its engine as globalThis._tfengine.
 */
import { main } from '../../../../src/cli/main.js';

const code = await main(process.argv.slice(0, 1).concat(['skipgraph', ...process.argv.slice(2)]));
process.stderr.write(`tfjs loaded: ${'_tfengine' in globalThis}\n`);
process.exitCode = code;
