/**
 * A compiled graph plus its weights (PyTorch names and layouts) as an ONNX model: opset 17,
 * IR version 8, NCHW with a dynamic batch dimension. Each compiled node becomes one ONNX node
 * of the same name whose output tensor carries the node id; initializers carry the state_dict
 * names; every node's doc_string says where in the YAML it comes from.
 *
 *   conv             Conv (explicit pads [top, left, bottom, right], group, dilations)
 *   bn               BatchNormalization (inference), or folded into its conv (`fold`)
 *   layernorm        LayerNormalization (axis -1; on a map between Transposes to NHWC and back)
 *   layer_scale      Mul by the [C, 1, 1] initializer named as torchvision's key (`features.1.0.layer_scale`)
 *   maxpool/avgpool  MaxPool / AveragePool with explicit pads: MaxPool's pads never win (they
 *                    are -inf to ONNX); AveragePool counts padding as PyTorch's default does
 *                    (count_include_pad=1), avgdown's ceil-mode pool does not (ceil_mode=1,
 *                    count_include_pad=0); a MaxPool after a zeropad or channel_pad reads an explicit
 *                    -inf Pad instead (onnxruntime would merge the zero Pad into its padding)
 *   zeropad          Pad;  subsample  Slice with steps;  channel_pad  Pad on the channel axis
 *   global_avg_pool  GlobalAveragePool (+ Flatten without keepdims);  flatten  Flatten
 *   dense            Gemm (transB=1: PyTorch's [out, in] weight as it is); pointwise: Transpose,
 *                    MatMul by the transposed weight, Add bias, Transpose back
 *   relu6            Clip(0, 6);  silu  x * Sigmoid(x);  dropout  Dropout (identity at inference);
 *   hardswish        HardSwish;  hardsigmoid  HardSigmoid(alpha 1/6);  gelu  x * (Erf(x / sqrt 2) + 1) * 0.5
 *   leaky_relu       LeakyRelu(alpha slope)
 *                    drop_path  Identity (stochastic depth acts in training only)
 */
import { nodeAs, unreachableOp, type OpKind } from '../../compiler/ops.js';
import type { CompiledGraph, GraphNode } from '../../compiler/types.js';
import { planFolding } from '../../compiler/analyses/fold.js';
import { foldConvBn } from './fold.js';
import { graphOutputs, isOutputNode } from './outputs.js';
import { formatBytes } from '../../compiler/limits.js';
import { checkWeights, paramSpecs, type WeightMap } from './params.js';
import { AttributeType, DataType, encodeModel, type Attribute, type Model, type Node, type Tensor, type ValueInfo } from './proto.js';

export const OPSET = 17;

export const IR_VERSION = 8;
/** The name of the dynamic batch dimension. */
export const BATCH_DIM = 'batch';

export interface ExportOptions {
  /** Fold each batch norm that follows a conv into it. */
  fold?: boolean;
  /** Named in messages about the weights ("W.safetensors", "the model in DIR"). */
  weightsSource?: string;
  /** Written as producer_version. */
  producerVersion?: string;
}

export interface ExportResult {
  bytes: Uint8Array;
  /** Batch norms folded into convs (0 without `fold`). */
  folded: number;
  nodes: number;
  initializers: number;
  /** Names of the graph's input and output tensors (one output for a classifier, one per feature for a backbone). */
  input: string;
  outputs: string[];
}

/** Something the compiled graph holds that ONNX's operators cannot express exactly. */
export class OnnxExportError extends Error {}

const int = (name: string, i: number): Attribute => ({ name, type: AttributeType.INT, i });
const ints = (name: string, v: readonly number[]): Attribute => ({ name, type: AttributeType.INTS, ints: [...v] });
const str = (name: string, v: string): Attribute => ({ name, type: AttributeType.STRING, s: new TextEncoder().encode(v) });
/** The ops this target writes as an ONNX Pad (a MaxPool after one gets its own -inf Pad: see the maxpool case). */
const EMITTED_AS_PAD: ReadonlySet<OpKind> = new Set<OpKind>(['zeropad', 'channel_pad']);
const float = (name: string, f: number): Attribute => ({ name, type: AttributeType.FLOAT, f });

/** [top, bottom, left, right] -> ONNX's [x1_begin, x2_begin, x1_end, x2_end]. */
const onnxPads = ([t, b, l, r]: readonly number[]) => [t, l, b, r];

/** A compiled shape (channels-last, no batch) as ONNX dims (NCHW, batch first). */
function nchwDims(shape: readonly number[]): (string | number)[] {
  if (shape.length === 3) return [BATCH_DIM, shape[2], shape[0], shape[1]];
  return [BATCH_DIM, ...shape];
}

function valueInfo(name: string, shape: readonly number[], doc?: string): ValueInfo {
  const dim = nchwDims(shape).map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d }));
  return { name, type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim } } }, ...(doc ? { doc_string: doc } : {}) };
}

function floatTensor(name: string, dims: number[], data: Float32Array): Tensor {
  // Little-endian raw bytes, as ONNX stores them (Float32Array is little-endian on every platform Node supports).
  return { name, dims, data_type: DataType.FLOAT, raw_data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}
const int64Tensor = (name: string, data: number[]): Tensor => ({ name, dims: [data.length], data_type: DataType.INT64, int64_data: data });
const scalar = (name: string, v: number): Tensor => ({ name, dims: [], data_type: DataType.FLOAT, raw_data: new Uint8Array(new Float32Array([v]).buffer) });

/** Where the node comes from, for its doc_string: `architectures/resnet18.yaml:24:7 layer1.0 (main path)`. */
export function docString(node: GraphNode): string {
  const at = node.loc.line > 0 ? `${node.loc.file}:${node.loc.line}:${node.loc.col}` : node.loc.file;
  const where = node.stage !== undefined ? ` ${node.stage}${node.block !== undefined ? `.${node.block}` : ''}${node.path ? ` (${node.path} path)` : ''}` : '';
  const inserted = node.inserted ? `; inserted by the ${node.inserted.rule} shortcut rule: ${node.inserted.reason}` : '';
  return `${at}${where}${inserted}`;
}

/** protobuf's limit on one message (2 GiB - 1): an ONNX file without external data holds every weight inside it. */
export const PROTOBUF_LIMIT = 2 ** 31 - 1;
/** Room kept for the nodes, names and doc strings next to the weights (resnet152's take under 1 MB). */
const STRUCTURE_MARGIN = 64 * 2 ** 20;

/**
 * Why the graph's ONNX file cannot be written, from its parameter count alone (before any weight
 * exists): its float32 weights do not fit protobuf's 2 GiB. skipgraph does not write ONNX's
 * external data (a second file per model, and a format onnxruntime-node reads only beside the
 * model's path), so the export is refused; undefined when it fits.
 */
export function protobufLimitProblem(graph: CompiledGraph): string | undefined {
  const params = paramSpecs(graph).reduce((a, s) => a + s.shape.reduce((p, q) => p * q, 1), 0);
  const bytes = params * 4;
  if (bytes + STRUCTURE_MARGIN <= PROTOBUF_LIMIT) return undefined;
  return (
    `${graph.name}'s weights (parameters and batch-norm statistics) are ${params.toLocaleString('en-US')} float32 values, ${formatBytes(bytes)}: an ONNX file holds at most 2 GiB (protobuf's limit), and skipgraph does not write ONNX external data.\n` +
    `  Export it with --target torch and write the ONNX file from PyTorch (torch.onnx.export stores weights over 2 GiB as external data), or make the model smaller.`
  );
}

/** ONNX's pooling output size along one axis (opset 17's formula). */
function onnxPoolOut(size: number, k: number, s: number, before: number, after: number, ceil: boolean): number {
  const q = (size + before + after - k) / s;
  return (ceil ? Math.ceil(q) : Math.floor(q)) + 1;
}

/**
 * Encodes the model. Throws WeightsMismatchError (every missing, misshapen or unknown tensor
 * listed) when `weights` does not fit the graph, OnnxExportError when a node cannot be
 * expressed exactly or the weights exceed protobuf's 2 GiB (protobufLimitProblem).
 */
export function exportOnnx(graph: CompiledGraph, weights: WeightMap, options: ExportOptions = {}): ExportResult {
  const tooBig = protobufLimitProblem(graph);
  if (tooBig !== undefined) throw new OnnxExportError(tooBig);
  const w = checkWeights(graph, weights, options.weightsSource);
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  /** conv id -> the batch norm folded into it (the plan without relu fusion: every entry has a bn). */
  const folding = new Map(options.fold ? planFolding(graph).convs.map((c) => [c.conv, c.bn!]) : []);
  const foldedBns = new Set(folding.values());
  /** The tensor holding a node's value (a folded batch norm's value is its conv's output). */
  const alias = new Map<string, string>();
  const value = (id: string) => alias.get(id) ?? id;
  const isOutput = isOutputNode(graph);
  const nodes: Node[] = [];
  const initializers: Tensor[] = [];
  const valueInfos: ValueInfo[] = [];
  const input = graph.nodes[0];
  if (input.op !== 'input') throw new Error(`skipgraph: internal error: the graph's first node is ${input.op}`);

  for (const node of graph.nodes.slice(1)) {
    const doc = docString(node);
    const x = node.inputs.map(value);
    const inShape = byId.get(node.inputs[0])!.shape;
    const add = (op_type: string, inputs: string[], attribute: Attribute[] = [], name = node.id, output = name) => {
      nodes.push({ name, op_type, input: inputs, output: [output], attribute, doc_string: doc });
      return output;
    };
    const param = (key: string, data: Float32Array, dims: number[]) => {
      initializers.push(floatTensor(key, dims, data));
      return key;
    };
    const spec = (key: string) => w.get(key)!;
    if (foldedBns.has(node.id)) {
      alias.set(node.id, value(node.inputs[0]));
      continue;
    }
    switch (node.op) {
      case 'conv': {
        const a = node.attrs;
        const inC = inShape[inShape.length - 1];
        const dims = [a.filters, inC / a.groups, a.kernel[0], a.kernel[1]];
        let weight = spec(`${node.id}.weight`);
        let bias = a.bias ? spec(`${node.id}.bias`) : undefined;
        const bn = folding.get(node.id);
        if (bn !== undefined) {
          const get = (r: string) => spec(`${bn}.${r}`);
          ({ weight, bias } = foldConvBn(weight, bias, { weight: get('weight'), bias: get('bias'), running_mean: get('running_mean'), running_var: get('running_var') }, nodeAs(byId.get(bn), 'bn').attrs));
        }
        const inputs = [x[0], param(`${node.id}.weight`, weight, dims)];
        if (bias !== undefined) inputs.push(param(`${node.id}.bias`, bias, [a.filters]));
        add('Conv', inputs, [ints('kernel_shape', a.kernel), ints('strides', a.stride), ints('pads', onnxPads(a.padding)), ints('dilations', a.dilation), int('group', a.groups)]);
        break;
      }
      case 'bn': {
        const a = node.attrs;
        const c = node.shape[node.shape.length - 1];
        const p = (r: string) => param(`${node.id}.${r}`, spec(`${node.id}.${r}`), [c]);
        // ONNX's momentum weighs the running value (PyTorch's weighs the batch): 1 - m. Only training reads it.
        add('BatchNormalization', [x[0], p('weight'), p('bias'), p('running_mean'), p('running_var')], [float('epsilon', a.epsilon), float('momentum', 1 - a.momentum)]);
        break;
      }
      case 'layernorm': {
        const c = node.shape[node.shape.length - 1];
        const p = (r: string) => param(`${node.id}.${r}`, spec(`${node.id}.${r}`), [c]);
        const eps = float('epsilon', node.attrs.epsilon);
        if (node.shape.length === 1) {
          add('LayerNormalization', [x[0], p('weight'), p('bias')], [int('axis', -1), eps]);
          break;
        }
        // Over the channels of an NCHW map: to NHWC, normalise the last axis, back (LayerNorm2d).
        const nhwc = add('Transpose', x, [ints('perm', [0, 2, 3, 1])], `${node.id}/nhwc`);
        const ln = add('LayerNormalization', [nhwc, p('weight'), p('bias')], [int('axis', -1), eps], `${node.id}/ln`);
        add('Transpose', [ln], [ints('perm', [0, 3, 1, 2])]);
        break;
      }
      case 'layer_scale':
        // The [C, 1, 1] gain broadcasts over NCHW as it is. Its initializer takes the state_dict
        // key, which is the node id, so the product is the value `<id>:out`.
        add('Mul', [x[0], param(node.id, spec(node.id), [node.shape[2], 1, 1])], [], node.id, `${node.id}:out`);
        alias.set(node.id, `${node.id}:out`);
        break;
      case 'relu':
        add('Relu', x);
        break;
      case 'sigmoid':
        add('Sigmoid', x);
        break;
      case 'tanh':
        add('Tanh', x);
        break;
      case 'relu6':
        initializers.push(scalar(`${node.id}/min`, 0), scalar(`${node.id}/max`, 6));
        add('Clip', [x[0], `${node.id}/min`, `${node.id}/max`]);
        break;
      case 'silu': {
        const s = add('Sigmoid', x, [], `${node.id}/sigmoid`);
        add('Mul', [x[0], s]);
        break;
      }
      case 'hardswish':
        add('HardSwish', x);
        break;
      case 'leaky_relu':
        add('LeakyRelu', x, [float('alpha', node.attrs.slope)]);
        break;
      case 'hardsigmoid':
        // ONNX's default alpha is 0.2 (Keras's); PyTorch's is 1/6.
        add('HardSigmoid', x, [float('alpha', 1 / 6), float('beta', 0.5)]);
        break;
      case 'gelu': {
        // Opset 17 has no Gelu (20 does): x * (1 + erf(x / sqrt(2))) / 2.
        initializers.push(scalar(`${node.id}/sqrt2`, Math.SQRT2), scalar(`${node.id}/one`, 1), scalar(`${node.id}/half`, 0.5));
        const e = add('Erf', [add('Div', [x[0], `${node.id}/sqrt2`], [], `${node.id}/div`)], [], `${node.id}/erf`);
        const h = add('Mul', [add('Add', [e, `${node.id}/one`], [], `${node.id}/add`), `${node.id}/half`], [], `${node.id}/half_cdf`);
        add('Mul', [x[0], h]);
        break;
      }
      case 'maxpool':
      case 'avgpool': {
        const a = node.attrs;
        const pads = [...a.padding];
        let ceil = a.ceil;
        if (ceil) {
          const oh = onnxPoolOut(inShape[0], a.kernel[0], a.stride[0], pads[0], pads[1], true);
          const ow = onnxPoolOut(inShape[1], a.kernel[1], a.stride[1], pads[2], pads[3], true);
          if (oh !== node.shape[0] || ow !== node.shape[1]) {
            // ONNX's ceil mode keeps a last window that starts past the data, PyTorch's drops it:
            // floor mode with the end padding PyTorch's windows reach instead (never counted:
            // count_include_pad=0 for avg, -inf for max).
            pads[1] = Math.max(0, (node.shape[0] - 1) * a.stride[0] + a.kernel[0] - inShape[0] - pads[0]);
            pads[3] = Math.max(0, (node.shape[1] - 1) * a.stride[1] + a.kernel[1] - inShape[1] - pads[2]);
            ceil = false;
          }
        }
        const oh = onnxPoolOut(inShape[0], a.kernel[0], a.stride[0], pads[0], pads[1], ceil);
        const ow = onnxPoolOut(inShape[1], a.kernel[1], a.stride[1], pads[2], pads[3], ceil);
        if (oh !== node.shape[0] || ow !== node.shape[1]) {
          throw new Error(`skipgraph: internal error: ${node.op} '${node.id}' is ${node.shape[0]}x${node.shape[1]} in the compiled graph but ${oh}x${ow} in ONNX`);
        }
        let input = x;
        if (node.op === 'maxpool' && EMITTED_AS_PAD.has(byId.get(node.inputs[0])!.op)) {
          // onnxruntime's PadFusion (graph optimisation level 1, on by default) merges a zero Pad
          // into the MaxPool after it as the pool's own padding, which is -inf: the map's border
          // then loses its zeros (wrong maxima wherever values are negative; measured on 1.30),
          // and pads reaching the kernel size are refused at load. So this pool's padding is an
          // explicit -inf Pad in between, which PadFusion leaves alone (its value is not 0), and
          // the MaxPool pads nothing: the same numbers with or without graph optimisation.
          initializers.push(int64Tensor(`${node.id}/pads`, [0, 0, pads[0], pads[2], 0, 0, pads[1], pads[3]]), scalar(`${node.id}/pad_value`, -Infinity));
          input = [add('Pad', [x[0], `${node.id}/pads`, `${node.id}/pad_value`], [str('mode', 'constant')], `${node.id}/pad`)];
          pads.fill(0);
        }
        const attrs = [ints('kernel_shape', a.kernel), ints('strides', a.stride), ints('pads', onnxPads(pads)), int('ceil_mode', ceil ? 1 : 0)];
        if (node.op === 'avgpool') attrs.push(int('count_include_pad', a.ceil ? 0 : 1));
        add(node.op === 'maxpool' ? 'MaxPool' : 'AveragePool', input, attrs);
        break;
      }
      case 'zeropad': {
        const [t, b, l, r] = node.attrs.padding;
        initializers.push(int64Tensor(`${node.id}/pads`, [0, 0, t, l, 0, 0, b, r]));
        add('Pad', [x[0], `${node.id}/pads`], [str('mode', 'constant')]);
        break;
      }
      case 'channel_pad': {
        const { before, after } = node.attrs;
        initializers.push(int64Tensor(`${node.id}/pads`, [0, before, 0, 0, 0, after, 0, 0]));
        add('Pad', [x[0], `${node.id}/pads`], [str('mode', 'constant')]);
        break;
      }
      case 'subsample': {
        const [sh, sw] = node.attrs.stride;
        const k = node.id;
        initializers.push(int64Tensor(`${k}/starts`, [0, 0]), int64Tensor(`${k}/ends`, [inShape[0], inShape[1]]), int64Tensor(`${k}/axes`, [2, 3]), int64Tensor(`${k}/steps`, [sh, sw]));
        add('Slice', [x[0], `${k}/starts`, `${k}/ends`, `${k}/axes`, `${k}/steps`]);
        break;
      }
      case 'global_avg_pool':
        if (node.attrs.keepdims === true) add('GlobalAveragePool', x);
        else add('Flatten', [add('GlobalAveragePool', x, [], `${node.id}/pool`)], [int('axis', 1)]);
        break;
      case 'flatten':
        add('Flatten', x, [int('axis', 1)]);
        break;
      case 'drop_path':
        // Stochastic depth is the identity at inference (the only mode ONNX export serves).
        add('Identity', x);
        break;
      case 'dropout':
        initializers.push(scalar(`${node.id}/ratio`, node.attrs.rate));
        add('Dropout', [x[0], `${node.id}/ratio`]);
        break;
      case 'dense': {
        const units = node.attrs.units;
        if (node.attrs.pointwise) {
          // nn.Linear on the channels-last view: to NHWC, MatMul by weight^T (+ bias), back to NCHW.
          const w = param(`${node.id}.weight`, spec(`${node.id}.weight`), [units, inShape[2]]);
          const nhwc = add('Transpose', x, [ints('perm', [0, 2, 3, 1])], `${node.id}/nhwc`);
          const wt = add('Transpose', [w], [ints('perm', [1, 0])], `${node.id}/weight_t`);
          let y = add('MatMul', [nhwc, wt], [], `${node.id}/matmul`);
          if (node.attrs.bias !== false) y = add('Add', [y, param(`${node.id}.bias`, spec(`${node.id}.bias`), [units])], [], `${node.id}/add_bias`);
          add('Transpose', [y], [ints('perm', [0, 3, 1, 2])]);
          break;
        }
        const inN = inShape.reduce((p, q) => p * q, 1);
        const a = inShape.length === 1 ? x[0] : add('Flatten', x, [int('axis', 1)], `${node.id}/flatten`);
        const inputs = [a, param(`${node.id}.weight`, spec(`${node.id}.weight`), [units, inN])];
        if (node.attrs.bias !== false) inputs.push(param(`${node.id}.bias`, spec(`${node.id}.bias`), [units]));
        add('Gemm', inputs, [int('transB', 1)]);
        break;
      }
      case 'add':
        add('Add', x);
        break;
      case 'mul':
        add('Mul', x);
        break;
      case 'input':
        // Only nodes[0] is the input (checked above); the graph's input value is declared below.
        throw new OnnxExportError(`${docString(node)}: a second input node ('${node.id}')`);
      default:
        return unreachableOp(node, 'ONNX');
    }
    if (!isOutput(node.id)) valueInfos.push(valueInfo(value(node.id), node.shape));
  }

  // The output part: a classifier's logits, or one output per feature (src/targets/onnx/outputs.ts).
  const outputs = graphOutputs(graph, value, (from, to) => nodes.push({ name: to, op_type: 'Identity', input: [from], output: [to], attribute: [], doc_string: `feature ${to}` }));
  if (typeof outputs === 'string') throw new OnnxExportError(outputs);
  const outNames = new Set(outputs.map((o) => o.name));
  const outDoc = outputs.map((o) => `${o.name} [${BATCH_DIM}, ${byId.get(o.node)!.shape.join(', ')}]`).join(', ');
  const model: Model = {
    ir_version: IR_VERSION,
    opset_import: [{ domain: '', version: OPSET }],
    producer_name: 'skipgraph',
    producer_version: options.producerVersion ?? '',
    doc_string: `${graph.name}, compiled from ${graph.file} by skipgraph${options.fold ? '; batch norms folded into their convs' : ''}`,
    metadata_props: [
      { key: 'architecture', value: graph.name },
      { key: 'source', value: graph.file },
      { key: 'layout', value: 'NCHW' },
      { key: 'folded', value: String(options.fold === true) },
    ],
    graph: {
      name: graph.name,
      node: nodes,
      initializer: initializers,
      input: [valueInfo(input.id, input.shape, docString(input))],
      output: outputs.map((o) => valueInfo(o.name, byId.get(o.node)!.shape)),
      // A folded batch norm's value is its conv's output: the alias keeps one entry per tensor.
      value_info: valueInfos.filter((v) => !outNames.has(v.name) && !foldedBns.has(v.name)),
      doc_string: `skipgraph ${graph.name}: input ${input.id} [${BATCH_DIM}, ${input.shape[2]}, ${input.shape[0]}, ${input.shape[1]}] (NCHW), output${outputs.length > 1 ? 's' : ''} ${outDoc}`,
    },
  };
  return { bytes: encodeModel(model), folded: folding.size, nodes: nodes.length, initializers: initializers.length, input: input.id, outputs: outputs.map((o) => o.name) };
}
