/**
 * PyTorch state_dict names and layouts <-> the TF.js model buildModel emits.
 *
 * The compiler names every node by its torchvision/timm state_dict prefix, so each parameter's
 * key is `<node id>.<role>`:
 *   conv  (Conv2D, GroupedConv2D)  weight [O, I/g, kh, kw] -> kernel [kh, kw, I/g, O]; bias [O]
 *   bn    (BatchNormalization)     weight -> gamma, bias -> beta, running_mean -> moving_mean,
 *                                  running_var -> moving_variance; num_batches_tracked ignored
 *   dense (Dense)                  weight [out, in] -> kernel [in, out]; bias [out]
 * Grouped convs: PyTorch's output channel o belongs to group floor(o / (O/g)) and sees I/g input
 * channels; the runtime's GroupedConv2D kernel is [kh, kw, I/g, O] with group k's filters at
 * [k*O/g, (k+1)*O/g) along the last axis, so the plain OIHW -> HWIO transpose is the split.
 * A dense layer behind a flatten of an [H, W, C] map (H*W > 1) also gets its input axis
 * reordered, PyTorch flattening C, H, W and TF.js H, W, C.
 */
import type * as tf from '@tensorflow/tfjs';
import { weightTensors } from '../../../compiler/analyses/state_dict.js';
import type { StateRole } from '../../../compiler/ops.js';
import type { CompiledGraph, GraphNode } from '../../../compiler/types.js';
import { InternalError, UserError } from '../../../errors/index.js';
import { FLOAT_DTYPES } from '../../../formats/safetensors.js';

export type TfVariable = 'kernel' | 'bias' | 'gamma' | 'beta' | 'moving_mean' | 'moving_variance';

export interface ParamSlot {
  /** The state_dict key: `layer1.0.conv1.weight`. */
  key: string;
  /** Node id = TF.js layer name. */
  node: string;
  variable: TfVariable;
  torchShape: number[];
  tfShape: number[];
  /** PyTorch layout -> TF.js layout. */
  toTf(data: Float32Array): Float32Array;
  /** TF.js layout -> PyTorch layout. */
  toTorch(data: Float32Array): Float32Array;
}

/** Keys of a state_dict that hold no weights skipgraph uses (batch-norm step counters). */
export const IGNORED_SUFFIXES = ['.num_batches_tracked'] as const;

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const same = (s: Float32Array) => s;

/**
 * OIHW -> HWIO (and back), for kernels of shape [o, i, kh, kw]: the matrix [O, I*K] becomes
 * [K, I, O] (K = kh*kw), transposed in 32x32 tiles of (o, i) so both sides stay in cache.
 */
const TILE = 32;
function oihwToHwio([o, i, kh, kw]: number[]) {
  const k = kh * kw;
  return (src: Float32Array) => {
    const dst = new Float32Array(src.length);
    for (let a0 = 0; a0 < o; a0 += TILE)
      for (let b0 = 0; b0 < i; b0 += TILE) {
        const a1 = Math.min(o, a0 + TILE);
        const b1 = Math.min(i, b0 + TILE);
        for (let q = 0; q < k; q++)
          for (let b = b0; b < b1; b++) {
            const d = (q * i + b) * o;
            for (let a = a0; a < a1; a++) dst[d + a] = src[(a * i + b) * k + q];
          }
      }
    return dst;
  };
}
function hwioToOihw([o, i, kh, kw]: number[]) {
  const k = kh * kw;
  return (src: Float32Array) => {
    const dst = new Float32Array(src.length);
    for (let a0 = 0; a0 < o; a0 += TILE)
      for (let b0 = 0; b0 < i; b0 += TILE) {
        const a1 = Math.min(o, a0 + TILE);
        const b1 = Math.min(i, b0 + TILE);
        for (let a = a0; a < a1; a++)
          for (let b = b0; b < b1; b++) {
            const d = (a * i + b) * k;
            for (let q = 0; q < k; q++) dst[d + q] = src[(q * i + b) * o + a];
          }
      }
    return dst;
  };
}

/**
 * Dense [out, in] (torch, `in` flattened as C,H,W) <-> [in, out] (TF.js, `in` as H,W,C).
 * `map` = [h, w, c] of the flattened map, or [1, 1, in] when there is no reordering.
 */
function denseReorder(out: number, [h, w, c]: number[], direction: 'toTf' | 'toTorch') {
  return (src: Float32Array) => {
    const dst = new Float32Array(src.length);
    const inN = h * w * c;
    for (let o = 0; o < out; o++)
      for (let ch = 0; ch < c; ch++)
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) {
            const tfIndex = ((y * w + x) * c + ch) * out + o;
            const torchIndex = o * inN + (ch * h + y) * w + x;
            if (direction === 'toTf') dst[tfIndex] = src[torchIndex];
            else dst[torchIndex] = src[tfIndex];
          }
    return dst;
  };
}

/** How TF.js holds one state_dict tensor: its variable, and how its layout differs from PyTorch's. */
interface TfTensor {
  variable: TfVariable;
  /** same: as PyTorch; oihw: conv kernel [kh, kw, I/g, O]; dense: kernel [in, out], `in` as H, W, C. */
  layout: 'same' | 'oihw' | 'dense';
}

/**
 * Where a state_dict tensor (the registry's, src/compiler/analyses/state_dict.ts) lives in the
 * TF.js model buildModel emits, from what the tensor is, with no table of ops: Keras names a
 * layer's variables by their part, and PyTorch's layout says which part a tensor is.
 * - A `weight` of rank 4 is a conv kernel (OIHW -> HWIO), of rank 2 a linear one ([out, in] ->
 *   [in, out]); the `bias` beside a kernel is `bias`.
 * - Any other `weight` is a per-channel gain (a norm's, `gamma`), the `bias` beside it `beta`, and
 *   the running statistics are `moving_mean` and `moving_variance`.
 * - A tensor that is its node (`self`: layer_scale's nn.Parameter) is the gain of its layer, `gamma`.
 * A layer the emitter builds with other variable names fails loudly where the model is read or
 * written (layerVariable), and the conformance matrix loads every op's weights this way.
 */
function tfTensor(role: StateRole, shape: readonly number[], besideKernel: boolean): TfTensor {
  switch (role) {
    case 'weight':
      return shape.length === 4 ? { variable: 'kernel', layout: 'oihw' } : shape.length === 2 ? { variable: 'kernel', layout: 'dense' } : { variable: 'gamma', layout: 'same' };
    case 'bias':
      return { variable: besideKernel ? 'bias' : 'beta', layout: 'same' };
    case 'running_mean':
      return { variable: 'moving_mean', layout: 'same' };
    case 'running_var':
      return { variable: 'moving_variance', layout: 'same' };
    case 'self':
      return { variable: 'gamma', layout: 'same' };
    case 'num_batches_tracked':
      throw new InternalError('a step counter has no TF.js variable (weightTensors leaves it out)');
  }
}

/** Every parameter the compiled graph's model holds, with its state_dict key, in graph order. */
export function stateDictSlots(graph: CompiledGraph): ParamSlot[] {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const inShape = (n: GraphNode) => byId.get(n.inputs[0])!.shape;
  const tensors = weightTensors(graph);
  // Nodes with a kernel (a conv's or a linear layer's weight): their bias is Keras's `bias`, not a norm's `beta`.
  const withKernel = new Set(tensors.filter((t) => t.role === 'weight' && t.shape.length >= 2).map((t) => t.node.id));
  /**
   * The [H, W, C] map whose flattened features a node's input holds (H*W > 1), or undefined. TF.js
   * flattens in H, W, C order and PyTorch in C, H, W, so a tensor per feature of that input (a
   * dense layer's input axis, a flat layernorm's gain and bias) is reordered. The features keep
   * their places through ops that keep the flat shape and mix no features (no kernel): dropout,
   * activations, a layernorm.
   */
  const flattenedMap = (node: GraphNode): number[] | undefined => {
    let src = byId.get(node.inputs[0])!;
    while (src.op !== 'flatten' && src.shape.length === 1 && src.inputs.length === 1 && !withKernel.has(src.id) && inShape(src).join() === src.shape.join()) src = byId.get(src.inputs[0])!;
    const map = src.op === 'flatten' ? inShape(src) : [];
    return map.length === 3 && map[0] * map[1] > 1 ? map : undefined;
  };
  return tensors.map(({ key, node, role, shape: torchShape }) => {
    const tf = tfTensor(role, torchShape, withKernel.has(node.id));
    const slot = { key, node: node.id, variable: tf.variable, torchShape };
    switch (tf.layout) {
      case 'same': {
        // A gain or bias per feature of a flattened map (not a kernel's bias, which is per output): each side's feature order.
        const perFeature = !withKernel.has(node.id) && torchShape.length === 1 && node.shape.length === 1 && torchShape[0] === node.shape[0];
        const map = perFeature ? flattenedMap(node) : undefined;
        if (map) return { ...slot, tfShape: torchShape, toTf: denseReorder(1, map, 'toTf'), toTorch: denseReorder(1, map, 'toTorch') };
        return { ...slot, tfShape: torchShape, toTf: same, toTorch: same };
      }
      case 'oihw': {
        const [o, i, kh, kw] = torchShape;
        return { ...slot, tfShape: [kh, kw, i, o], toTf: oihwToHwio(torchShape), toTorch: hwioToOihw(torchShape) };
      }
      case 'dense': {
        // A dense layer on a flattened [H, W, C] map (H*W > 1) reorders its input axis; otherwise
        // (pointwise on a map's channels too: inN is the channels) a plain transpose.
        const [units, inN] = torchShape;
        const map = flattenedMap(node) ?? [1, 1, inN];
        return { ...slot, tfShape: [inN, units], toTf: denseReorder(units, map, 'toTf'), toTorch: denseReorder(units, map, 'toTorch') };
      }
    }
  });
}

/** What a state_dict's header says about one tensor. */
export interface TensorMeta {
  dtype: string;
  shape: number[];
}

export interface StateDictProblems {
  /** Keys the model needs that the file lacks. */
  missing: string[];
  /** Keys in the file the model has no place for. */
  unexpected: string[];
  /** Keys whose shape (or dtype) does not fit: "key: file [..] F32, model needs [..]". */
  mismatched: string[];
}

/**
 * Compares a file's tensors with the slots; every offender is listed, none is dropped. `prefix`
 * is what precedes every key in the file ('module.' for a DataParallel checkpoint).
 */
export function checkStateDict(slots: ParamSlot[], tensors: ReadonlyMap<string, TensorMeta>, prefix = ''): StateDictProblems {
  const missing: string[] = [];
  const mismatched: string[] = [];
  const seen = new Set<string>();
  for (const slot of slots) {
    const name = prefix + slot.key;
    const meta = tensors.get(name);
    if (!meta) {
      missing.push(`${name} [${slot.torchShape.join(', ')}]`);
      continue;
    }
    seen.add(name);
    const shapeOk = meta.shape.length === slot.torchShape.length && meta.shape.every((d, i) => d === slot.torchShape[i]);
    if (!shapeOk || !(FLOAT_DTYPES as readonly string[]).includes(meta.dtype)) {
      mismatched.push(`${name}: file has [${meta.shape.join(', ')}] ${meta.dtype}, model needs [${slot.torchShape.join(', ')}] float`);
    }
  }
  const batchNorms = new Set(slots.filter((s) => s.variable === 'gamma').map((s) => s.node));
  const unexpected: string[] = [];
  for (const [name, meta] of tensors) {
    if (seen.has(name)) continue;
    const suffix = IGNORED_SUFFIXES.find((s) => name.endsWith(s));
    if (suffix && name.startsWith(prefix) && batchNorms.has(name.slice(prefix.length, -suffix.length))) continue;
    unexpected.push(`${name} [${meta.shape.join(', ')}] ${meta.dtype}`);
  }
  return { missing, unexpected, mismatched };
}

/** A state_dict that does not fit the architecture; `problems` holds every offender, the message up to MAX_LISTED of each kind. */
export class StateDictError extends UserError {
  constructor(
    readonly source: string,
    readonly architecture: string,
    readonly problems: StateDictProblems,
  ) {
    super(formatProblems(source, architecture, problems));
  }
}

/** Offenders listed per kind in a message (a file with 100,000 unexpected tensors printed 4.5 MB). */
export const MAX_LISTED = 50;

export function formatProblems(source: string, architecture: string, p: StateDictProblems): string {
  const parts = [`${source} does not fit ${architecture}:`];
  const section = (title: string, items: string[]) => {
    if (items.length === 0) return;
    parts.push(`  ${items.length} ${title}:`);
    for (const i of items.slice(0, MAX_LISTED)) parts.push(`    ${i}`);
    if (items.length > MAX_LISTED) parts.push(`    ... and ${items.length - MAX_LISTED} more`);
  };
  section(p.missing.length === 1 ? 'tensor missing' : 'tensors missing', p.missing);
  section(p.unexpected.length === 1 ? 'unexpected tensor' : 'unexpected tensors', p.unexpected);
  section(p.mismatched.length === 1 ? 'tensor of the wrong shape' : 'tensors of the wrong shape', p.mismatched);
  return parts.join('\n');
}

export const hasProblems = (p: StateDictProblems) => p.missing.length + p.unexpected.length + p.mismatched.length > 0;

/** The TF.js variable of a layer by its role, whatever suffix TF.js added to keep names unique. */
export function layerVariable(layer: tf.layers.Layer, variable: TfVariable): tf.LayerVariable {
  const found = layer.weights.find((w) => {
    const base = (w.originalName ?? w.name).split('/').pop()!.replace(/_\d+$/, '');
    return base === variable;
  });
  if (!found) throw new InternalError(`layer ${layer.name} has no '${variable}' weight (it has ${layer.weights.map((w) => w.originalName).join(', ')})`);
  return found;
}
