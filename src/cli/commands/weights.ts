/**
 * `skipgraph weights import|export|check`: bring a PyTorch state_dict (saved as safetensors) into
 * skipgraph, and back. TF.js is loaded only by import and export (import: once the file fits).
 */
import type { Command } from 'commander';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../../errors/index.js';
import { openSafetensors, type TensorSource } from '../../formats/safetensors.js';
import { checkStateDict, formatProblems, hasProblems, stateDictSlots } from '../../targets/tfjs/weights/state_dict.js';
import { addCompileOptions, compileForCli, sourceFiles } from './compile.js';
import { describeFold } from './fold.js';
import { readingSavedModel, requireLayers, userInput } from './saved_model.js';
import { checkOutDir, fileSystemMessage } from '../../io/out_dir.js';
import { planOutput, SAFETENSORS_PRODUCER, writeOutput } from '../../io/output_policy.js';
import { ValueCheck } from '../../formats/finite.js';
import type { ParamSlot } from '../../targets/tfjs/weights/state_dict.js';
import { EXIT, InputError, shown, type Io } from '../io.js';

interface WeightsFlags {
  from: string;
  out?: string;
  prefix?: string;
  backend?: string;
  set?: string[];
  extendsRoot?: string;
  maxBlocks?: number;
  maxNodes?: number;
  maxParams?: number;
  force?: boolean;
  allowNonfinite?: boolean;
}

const fmt = (n: number) => n.toLocaleString('en-US');
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

function open(path: string): TensorSource {
  try {
    return openSafetensors(path);
  } catch (e) {
    if (e instanceof UserError) throw new InputError(e.message);
    throw e;
  }
}

/** Every tensor the architecture takes is read once and must hold numbers (and variances >= 0). */
function checkValues(src: TensorSource, slots: ParamSlot[], prefix: string): void {
  const check = new ValueCheck(src.source);
  for (const s of slots) check.add(prefix + s.key, src.float32(prefix + s.key), s.variable === 'moving_variance');
  check.throwIfAny();
}

/**
 * `weights export --out FILE`: never one of the model's own files (by name here, for a clear
 * message; by device and inode in the output policy), with or without --force.
 */
function checkOutFile(out: string, modelDir: string): void {
  const abs = resolve(out);
  if (existsSync(abs) && statSync(abs).isDirectory()) throw new UserError(`--out ${out} is a folder; weights export writes one .safetensors file`);
  const parent = dirname(abs);
  const model = resolve(modelDir);
  const modelFolder = existsSync(model) && statSync(model).isDirectory() ? model : dirname(model);
  let realParent = parent;
  let realModel = modelFolder;
  try {
    realParent = realpathSync(parent);
    realModel = realpathSync(modelFolder);
  } catch {
    // compared as given
  }
  const name = abs.slice(parent.length + 1);
  if (realParent === realModel && ['model.json', 'weights.bin'].includes(name)) {
    throw new UserError(`--out ${out} is a file of the model being read (--model ${modelDir}); skipgraph never writes over its own input (even with --force): choose another name`);
  }
}

function detectPrefix(src: TensorSource, flag: string | undefined): string {
  if (flag !== undefined) return flag;
  const names = [...src.header.tensors.keys()];
  return names.length > 0 && names.every((n) => n.startsWith('module.')) ? 'module.' : '';
}

/** Compiles, opens and checks: the graph and the open file, or an InputError listing every offender. */
function prepare(file: string, flags: WeightsFlags, io: Io, outDir?: string) {
  const r = compileForCli(file, { ...flags, format: 'table' }, io);
  if (!r.graph) return undefined;
  if (outDir !== undefined) userInput(() => checkOutDir(outDir, { force: flags.force, inputs: [flags.from, ...sourceFiles(file, r)] }));
  const src = open(flags.from);
  try {
    const prefix = detectPrefix(src, flags.prefix);
    const slots = stateDictSlots(r.graph);
    const problems = checkStateDict(slots, src.header.tensors, prefix);
    if (hasProblems(problems)) throw new InputError(formatProblems(flags.from, r.graph.name, problems));
    if (!flags.allowNonfinite) userInput(() => checkValues(src, slots, prefix));
    return { graph: r.graph, src, prefix };
  } catch (e) {
    src.close();
    throw e;
  }
}

const ALLOW_NONFINITE = ['--allow-nonfinite', 'accept NaN or infinite weights and negative running variances'] as const;

export function register(program: Command, io: Io, setExit: (code: number) => void): void {
  const weights = program.command('weights').description('import PyTorch weights (a state_dict saved as safetensors)');

  addCompileOptions(
    weights
      .command('import')
      .description('load a torchvision/timm state_dict into the architecture and save it as a TF.js model (model.json + weights.bin)')
      .argument('<file>', 'architecture YAML file')
      .requiredOption('--from <weights.safetensors>', 'the state_dict, as safetensors (tools/torch_reference.py convert makes one from a .pth)')
      .requiredOption('--out <dir>', 'folder for model.json and weights.bin')
      .option('--prefix <prefix>', "what precedes every key in the file (default: 'module.' when all keys have it)")
      .option('--backend <name>', 'TF.js backend to build with (default: the best available)')
      .option('--fold', 'save the inference form: batch norms folded into their convs, relus fused (see skipgraph fold)')
      .option('--force', 'replace --out even when it already holds a model')
      .option(...ALLOW_NONFINITE),
  ).action(async (file: string, flags: WeightsFlags & { fold?: boolean }) => {
    const p = prepare(file, flags, io, flags.out!);
    if (!p) return setExit(EXIT.input);
    try {
      const [{ selectBackend }, { buildModel }, { loadStateDict }, { saveModelFolder }, { MODEL_JSON, WEIGHTS_BIN }, { foldForInference }] = await Promise.all([
        import('../../targets/tfjs/backend.js'),
        import('../../targets/tfjs/build.js'),
        import('../../targets/tfjs/weights/load.js'),
        import('../../targets/tfjs/io/model_files.js'),
        import('../../targets/tfjs/io/file_io.js'),
        import('../../targets/tfjs/fold.js'),
      ]);
      await selectBackend({ force: flags.backend, forceSource: '--backend' });
      const model = buildModel(p.graph, { probe: false });
      const report = loadStateDict(model, p.graph, p.src, { prefix: p.prefix, allowNonfinite: true }); // checked in prepare
      const folded = flags.fold ? foldForInference(model, p.graph) : undefined;
      try {
        await saveModelFolder(folded?.model ?? model, flags.out!);
      } finally {
        model.dispose();
        folded?.model.dispose();
      }
      const saved = { modelJson: join(flags.out!, MODEL_JSON), weightsBin: join(flags.out!, WEIGHTS_BIN) };
      const bytes = statSync(saved.weightsBin).size;
      const ignored = report.ignored.length > 0 ? `; ignored ${report.ignored.length} num_batches_tracked` : '';
      io.out(`loaded ${report.tensors} tensors (${fmt(report.values)} values) from ${flags.from} into ${p.graph.name}${ignored}`);
      if (folded) for (const line of describeFold(p.graph, folded)) io.out(line);
      io.out(`wrote ${shown(saved.modelJson)} and ${shown(saved.weightsBin)} (${mb(bytes)})`);
      setExit(EXIT.ok);
    } catch (e) {
      if (e instanceof UserError) throw new InputError(e.message);
      const fs = fileSystemMessage(e);
      if (fs !== undefined) throw new InputError(fs);
      throw e;
    } finally {
      p.src.close();
    }
  });

  addCompileOptions(
    weights
      .command('export')
      .description('write a saved skipgraph model\'s weights as a PyTorch state_dict (safetensors, torchvision/timm names)')
      .argument('<file>', 'architecture YAML file the model was built from')
      .requiredOption('--model <dir>', 'folder with model.json and weights.bin')
      .requiredOption('--out <weights.safetensors>', 'the state_dict to write')
      .option('--force', 'replace --out even when skipgraph did not write it (never a file of --model, a link, a device or a FIFO)')
      .option(...ALLOW_NONFINITE),
  ).action(async (file: string, flags: WeightsFlags & { model: string }) => {
    const r = compileForCli(file, { ...flags, format: 'table' }, io);
    if (!r.graph) return setExit(EXIT.input);
    userInput(() => checkOutFile(flags.out!, flags.model));
    const inputs = [...sourceFiles(file, r), flags.model, join(flags.model, 'model.json'), join(flags.model, 'weights.bin')];
    const planned = userInput(() => planOutput({ path: flags.out!, flag: '--out', kind: 'safetensors', force: flags.force, inputs }));
    const [{ stateDictBytes }, { inspectSavedModel, modelFromSaved }, { selectBackend }] = await Promise.all([
      import('../../targets/tfjs/weights/load.js'),
      import('../../targets/tfjs/weights/saved.js'),
      import('../../targets/tfjs/backend.js'),
    ]);
    await selectBackend({ force: 'cpu', forceSource: 'weights export' }); // reads weights only: no need for more
    const graph = r.graph;
    const bytes = await readingSavedModel(flags.model, async () => {
      const info = inspectSavedModel(flags.model);
      requireLayers({ layers: [...info.layerNames].map((name) => ({ name })) }, graph, flags.model);
      const model = modelFromSaved(info, graph, { allowNonfinite: flags.allowNonfinite });
      try {
        return stateDictBytes(model, graph, SAFETENSORS_PRODUCER);
      } finally {
        model.dispose();
      }
    });
    userInput(() => writeOutput(planned, bytes));
    io.out(`wrote ${stateDictSlots(r.graph).length} tensors of ${r.graph.name} to ${shown(flags.out!)} (${mb(bytes.length)})`);
    setExit(EXIT.ok);
  });

  addCompileOptions(
    weights
      .command('check')
      .description('check that a state_dict fits the architecture: every name and shape (no TF.js, nothing written)')
      .argument('<file>', 'architecture YAML file')
      .requiredOption('--from <weights.safetensors>', 'the state_dict, as safetensors')
      .option('--prefix <prefix>', "what precedes every key in the file (default: 'module.' when all keys have it)")
      .option(...ALLOW_NONFINITE),
  ).action((file: string, flags: WeightsFlags) => {
    const p = prepare(file, flags, io);
    if (!p) return setExit(EXIT.input);
    const n = stateDictSlots(p.graph).length;
    io.out(`${flags.from} fits ${p.graph.name}: ${n} tensors, every name and shape${p.prefix ? ` (prefix '${p.prefix}')` : ''}`);
    p.src.close();
    setExit(EXIT.ok);
  });
}
