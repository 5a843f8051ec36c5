/**
 * `skipgraph fold`: turn a saved model (from `skipgraph train`, `weights import` or a script)
 * into its inference form: batch norms folded into the convs before them, relus fused into the
 * conv kernels. TF.js is loaded only once the architecture compiles.
 */
import type { Command } from 'commander';
import type { CompiledGraph } from '../../compiler/types.js';
import type { FoldResult } from '../../targets/tfjs/fold.js';
import { join } from 'node:path';
import { addCompileOptions, compileForCli, sourceFiles, type CompileFlags } from './compile.js';
import { checkOutDir } from '../../io/out_dir.js';
import { readingSavedModel, requireLayers, userInput, userInputAsync } from './saved_model.js';
import { EXIT, InputError, shown, type Io } from '../io.js';

interface FoldFlags extends Omit<CompileFlags, 'format'> {
  model: string;
  out: string;
  backend?: string;
  force?: boolean;
  allowNonfinite?: boolean;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** The lines `fold` and `weights import --fold` print about a fold. */
export function describeFold(graph: CompiledGraph, r: FoldResult): string[] {
  const bns = r.plan.convs.filter((c) => c.bn !== undefined).length;
  const relus = r.plan.convs.filter((c) => c.activation !== undefined).length;
  const kept = graph.nodes.filter((n) => n.op === 'bn').length - bns;
  const lines = [
    `folded ${bns} batch norms and fused ${relus} relus into ${r.plan.convs.length} convs of ${graph.name}` +
      `${kept > 0 ? ` (${kept} batch norms follow no conv and stay)` : ''}: ${fmt(r.params.before)} -> ${fmt(r.params.after)} parameters`,
  ];
  const classes = r.skipgraphLayers;
  lines.push(classes.length === 0 ? 'the model uses stock TF.js layers only: plain @tensorflow/tfjs loads it' : `it uses skipgraph layers (${classes.join(', ')}): load it with skipgraph's loadModel`);
  return lines;
}

export function register(program: Command, io: Io, setExit: (code: number) => void): void {
  addCompileOptions(
    program
      .command('fold')
      .description('write the inference form of a saved model: batch norms folded into their convs, relus fused (outputs within 1e-4)')
      .argument('<file>', 'architecture YAML file the model was built from')
      .requiredOption('--model <dir>', 'folder with model.json and weights.bin (from skipgraph train or weights import)')
      .requiredOption('--out <dir>', 'folder for the folded model.json and weights.bin')
      .option('--backend <name>', 'TF.js backend to fold with (default: the best available)')
      .option('--force', 'replace --out even when it already holds a model (never the --model folder)')
      .option('--allow-nonfinite', 'accept NaN or infinite weights and negative running variances'),
  ).action(async (file: string, flags: FoldFlags) => {
    const r = compileForCli(file, { ...flags, format: 'table' }, io);
    if (!r.graph) return setExit(EXIT.input);
    userInput(() => checkOutDir(flags.out, { inputs: [flags.model, join(flags.model, 'model.json'), join(flags.model, 'weights.bin'), ...sourceFiles(file, r)], force: flags.force }));
    const [{ selectBackend }, { saveModelFolder }, { foldForInference, planFolding }, { inspectSavedModel, modelFromSaved }] = await Promise.all([
      import('../../targets/tfjs/backend.js'),
      import('../../targets/tfjs/io/model_files.js'),
      import('../../targets/tfjs/fold.js'),
      import('../../targets/tfjs/weights/saved.js'),
    ]);
    await selectBackend({ force: flags.backend, forceSource: '--backend' });
    const graph = r.graph;
    const result: FoldResult = await readingSavedModel(flags.model, async () => {
      // model.json is compared with the architecture before anything is built: the model is then
      // built from the architecture, never from what model.json declares.
      const info = inspectSavedModel(flags.model);
      const names = info.layerNames;
      const absorbed = planFolding(graph).absorbedInto;
      const keptAll = graph.nodes.every((n) => n.op === 'input' || absorbed.has(n.id) || names.has(n.id));
      if (absorbed.size > 0 && keptAll && [...absorbed.keys()].every((id) => !names.has(id))) {
        throw new InputError(`the model in ${flags.model} is already folded (its batch norms are gone): fold the trained model it came from`);
      }
      requireLayers({ layers: [...names].map((name) => ({ name })) }, graph, flags.model);
      const model = modelFromSaved(info, graph, { allowNonfinite: flags.allowNonfinite });
      try {
        return foldForInference(model, graph);
      } finally {
        model.dispose();
      }
    });
    try {
      await userInputAsync(() => saveModelFolder(result.model, flags.out));
    } finally {
      result.model.dispose();
    }
    for (const line of describeFold(r.graph, result)) io.out(line);
    io.out(`wrote ${shown(flags.out)}/model.json and weights.bin`);
    setExit(EXIT.ok);
  });
}
