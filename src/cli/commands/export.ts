/**
 * `skipgraph export FILE --target torch|onnx`: the compiled graph for another runtime. Each
 * target's branch lives in its own module; the architecture is compiled (and its diagnostics
 * printed) first.
 */
import type { OnnxExportFlags } from './export_onnx.js';
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { EXIT, UsageError, type Io } from '../io.js';
import { addCompileOptions, compileForCli, sourceFiles, type CompileFlags } from './compile.js';

export const TARGETS = ['torch', 'onnx'] as const;

/** export's flags: the compile flags, ONNX's weight sources, and the two every target reads. */
interface ExportFlags extends Omit<CompileFlags, 'format'>, OnnxExportFlags {
  target: string;
  force?: boolean;
}

const version = () => (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const seedOf = (v: string) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--seed needs a whole number >= 0, not "${v}".`);
  return n;
};

export function register(program: Command, io: Io, setExit: (code: number) => void): void {
  addCompileOptions(
    program
      .command('export')
      .description('write the compiled model for another runtime: --target onnx (an .onnx file) or torch (a PyTorch module)')
      .argument('<file>', 'architecture YAML file')
      .requiredOption('--target <name>', `what to write: ${TARGETS.join(' or ')}`)
      .option('--out <file>', 'the file to write (torch: default stdout)')
      .option('--model <dir>', 'onnx: weights from a saved skipgraph TF.js model (model.json and weights.bin)')
      .option('--weights <file.safetensors>', 'onnx: weights from a PyTorch state_dict (torchvision names)')
      .option('--seed <n>', "onnx: torchvision's fresh initialisation with this seed (the default, seed 0)", seedOf)
      .option('--fold', 'onnx: fold each batch norm that follows a conv into the conv')
      .option('--prefix <prefix>', "onnx: what precedes every key of --weights (default: 'module.' when all keys have it)")
      .option('--allow-nonfinite', 'accept NaN/Inf weights and negative running variances')
      .option('--force', 'replace --out even when skipgraph did not write it (never an input, a link, a device or a FIFO)'),
  ).action(async (file: string, flags: ExportFlags) => {
    if (!(TARGETS as readonly string[]).includes(flags.target)) throw new UsageError(`unknown --target '${flags.target}': choose ${TARGETS.join(' or ')}`);
    const r = compileForCli(file, { ...flags, format: 'table' }, io);
    if (!r.graph) return setExit(EXIT.input);
    const inputs = sourceFiles(file, r); // never written over (src/io/output_policy.ts)
    if (flags.target === 'onnx') {
      const { exportOnnxCommand } = await import('./export_onnx.js');
      return setExit(await exportOnnxCommand(r.graph, { ...flags, inputs }, io, version()));
    }
    const { exportTorchCommand } = await import('./export_torch.js');
    return setExit(await exportTorchCommand(r.graph, file, { ...flags, inputs }, io, version()));
  });
}
