import type { Command } from 'commander';
import { loadRuntime } from '../../targets/tfjs/load.js';
import { UserError } from '../../errors/index.js';
import { EXIT, InputError, processIo, type Io } from '../io.js';

/** `info`: versions and the TF.js backend skipgraph would train on, with why the better ones are absent. */
export function register(program: Command, io: Io = processIo(), setExit: (code: number) => void = () => {}): void {
  program
    .command('info')
    .description('show the TensorFlow.js backend skipgraph picks, and why better ones are absent')
    .option('--backend <name>', 'try to force a backend: node-gpu, node, wasm or cpu')
    .action(async (flags: { backend?: string }) => {
      try {
        const { tf, describeBackend, selectBackend } = await loadRuntime('info');
        const report = await selectBackend({ force: flags.backend });
        io.out(`tfjs ${tf.version.tfjs}, node ${process.versions.node}, ${process.platform}-${process.arch}`);
        for (const line of describeBackend(report)) io.out(line);
        if (report.tfName === 'wasm') {
          const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
          const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
          io.out(`  wasm: SIMD ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off'}`);
        }
        setExit(EXIT.ok);
      } catch (err) {
        if (err instanceof UserError) throw new InputError(err.message);
        throw err;
      }
    });
}
