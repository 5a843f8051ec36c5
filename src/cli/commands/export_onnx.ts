/**
 * `skipgraph export FILE --target onnx`: the compiled graph as an ONNX model, with weights from a
 * saved TF.js model (--model DIR), a PyTorch state_dict (--weights FILE.safetensors) or a fresh
 * torchvision-style initialisation (--seed N, the default with seed 0). The exporter (src/targets/onnx)
 * takes a name -> Float32Array map in PyTorch's names and layouts; this file gets that map from
 * the chosen source. TF.js is loaded only for --model.
 */
import { join } from 'node:path';
import { outputNodes } from '../../compiler/features.js';
import type { CompiledGraph } from '../../compiler/types.js';
import type { WeightMap } from '../../targets/onnx/index.js';
import { planOutput, writeOutput } from '../../io/output_policy.js';
import { EXIT, InputError, shown, UsageError, type Io } from '../io.js';
import { readingSavedModel, userInput, userInputAsync } from './saved_model.js';

export interface OnnxExportFlags {
  out?: string;
  model?: string;
  weights?: string;
  seed?: number;
  fold?: boolean;
  prefix?: string;
  allowNonfinite?: boolean;
  force?: boolean;
  /** The files the command reads (the architecture and its extends files): never written over. */
  inputs?: string[];
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** Weights from a safetensors state_dict; 'module.' prefixes (DataParallel) are dropped. */
async function fromSafetensors(path: string, graph: CompiledGraph, flags: OnnxExportFlags): Promise<WeightMap> {
  const [{ openSafetensors }, { ValueCheck }] = await Promise.all([import('../../formats/safetensors.js'), import('../../formats/finite.js')]);
  return userInput(() => {
    const src = openSafetensors(path);
    try {
      const names = [...src.header.tensors.keys()];
      const prefix = flags.prefix ?? (names.length > 0 && names.every((n) => n.startsWith('module.')) ? 'module.' : '');
      const map = new Map<string, { data: Float32Array; shape: number[] }>();
      const check = new ValueCheck(path);
      const bns = new Set(graph.nodes.filter((n) => n.op === 'bn').map((n) => n.id));
      for (const name of names) {
        const key = name.startsWith(prefix) ? name.slice(prefix.length) : name;
        const meta = src.header.tensors.get(name)!;
        // Step counters hold no weights (an I64 each); the exporter ignores them.
        if (key.endsWith('.num_batches_tracked') && bns.has(key.slice(0, -'.num_batches_tracked'.length))) {
          map.set(key, { data: new Float32Array(0), shape: meta.shape });
          continue;
        }
        const data = src.float32(name);
        if (!flags.allowNonfinite) check.add(name, data, key.endsWith('.running_var'));
        map.set(key, { data, shape: meta.shape });
      }
      check.throwIfAny();
      return map;
    } finally {
      src.close();
    }
  });
}

/** Weights of a saved skipgraph TF.js model, read back as a state_dict (PyTorch names and layouts). */
async function fromSavedModel(dir: string, graph: CompiledGraph, flags: OnnxExportFlags): Promise<WeightMap> {
  const [{ selectBackend }, { inspectSavedModel, modelFromSaved }, { readStateDict }, { requireLayers }] = await Promise.all([
    import('../../targets/tfjs/backend.js'),
    import('../../targets/tfjs/weights/saved.js'),
    import('../../targets/tfjs/weights/load.js'),
    import('./saved_model.js'),
  ]);
  await selectBackend({ force: 'cpu', forceSource: 'export --model' }); // reads weights only
  return readingSavedModel(dir, async () => {
    const info = inspectSavedModel(dir);
    requireLayers({ layers: [...info.layerNames].map((name) => ({ name })) }, graph, dir);
    const model = modelFromSaved(info, graph, { allowNonfinite: flags.allowNonfinite });
    try {
      return readStateDict(model, graph);
    } finally {
      model.dispose();
    }
  });
}

/** Everything export reads: the architecture's files and the weights' source (a file, or a model folder's files). */
function inputsOf(flags: OnnxExportFlags): string[] {
  const model = flags.model === undefined ? [] : [flags.model, join(flags.model, 'model.json'), join(flags.model, 'weights.bin')];
  return [...(flags.inputs ?? []), ...model, ...(flags.weights === undefined ? [] : [flags.weights])];
}

/** The `--target onnx` branch of `skipgraph export`; returns the exit code. */
export async function exportOnnxCommand(graph: CompiledGraph, flags: OnnxExportFlags, io: Io, producerVersion = ''): Promise<number> {
  const sources = [flags.model !== undefined, flags.weights !== undefined, flags.seed !== undefined].filter(Boolean).length;
  if (sources > 1) throw new UsageError('give at most one of --model, --weights and --seed');
  if (flags.out === undefined) throw new UsageError('--target onnx needs --out model.onnx');
  // --out is checked before any work (the output policy: src/io/output_policy.ts).
  const planned = userInput(() => planOutput({ path: flags.out!, flag: '--out', kind: 'onnx', force: flags.force, inputs: inputsOf(flags) }));
  const onnx = await import('../../targets/onnx/index.js');
  const tooBig = onnx.protobufLimitProblem(graph); // before any weight is read or drawn
  if (tooBig !== undefined) throw new InputError(tooBig);
  let weights: WeightMap;
  let source: string;
  if (flags.model !== undefined) {
    weights = await fromSavedModel(flags.model, graph, flags);
    source = `the model in ${flags.model}`;
  } else if (flags.weights !== undefined) {
    weights = await fromSafetensors(flags.weights, graph, flags);
    source = flags.weights;
  } else {
    weights = onnx.torchvisionInit(graph, flags.seed ?? 0);
    source = `torchvision's initialisation, seed ${flags.seed ?? 0}`;
  }
  let result;
  try {
    result = onnx.exportOnnx(graph, weights, { fold: flags.fold, weightsSource: source, producerVersion });
  } catch (e) {
    if (e instanceof onnx.WeightsMismatchError || e instanceof onnx.OnnxExportError) throw new InputError(e.message);
    throw e;
  }
  userInput(() => writeOutput(planned, result.bytes));
  const [h, w, c] = [graph.input.height, graph.input.width, graph.input.channels];
  io.out(`wrote ${shown(flags.out)} (${mb(result.bytes.length)}): ${graph.name}, ONNX opset ${onnx.OPSET}, IR ${onnx.IR_VERSION}, ${result.nodes} nodes, ${result.initializers} initializers, weights from ${source}`);
  // A classifier's logits [batch, classes]; a backbone's maps in NCHW, one output per feature.
  const outs = outputNodes(graph).map((id, i) => {
    const s = graph.nodes.find((n) => n.id === id)!.shape;
    return `"${result.outputs[i]}" [${[onnx.BATCH_DIM, ...(s.length === 3 ? [s[2], s[0], s[1]] : s)].join(', ')}]`;
  });
  io.out(`input "${result.input}" [${onnx.BATCH_DIM}, ${c}, ${h}, ${w}] (NCHW), output${outs.length > 1 ? 's' : ''} ${outs.join(', ')}`);
  if (flags.fold) io.out(`folded ${result.folded} batch norms into their convs`);
  return EXIT.ok;
}
