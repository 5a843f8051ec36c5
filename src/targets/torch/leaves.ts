/**
 * Leaves: one module (or none) per node, and the forward expression around it. Numbers a block's
 * instances may differ in are template slots (template.ts); every op is a case of the switch, so
 * an op the registry gains and this target lacks is a tsc error here.
 */
import { LAYER_SCALE_INIT, unreachableOp } from '../../compiler/ops.js';
import type { GraphNode, OpKind } from '../../compiler/types.js';
import { TorchEmitError } from './error.js';
import { pair, pyNum, safeAttr } from './quote.js';
import { TemplateBuilder, type Template } from './template.js';
import type { GraphIndex } from './tree.js';

/** The helper classes (python/skipgraph_torch_helpers.py) a leaf may construct. */
export type HelperClass = 'Subsample' | 'ChannelPad' | 'DropPath' | 'Container';

/** Ops whose output a later in-place op may overwrite: fresh tensors that autograd does not keep. */
const INPLACE_SAFE_PRODUCERS = new Set<OpKind>(['conv', 'bn', 'add', 'dense']);

export function inplaceOk(node: GraphNode, ix: GraphIndex): boolean {
  const src = ix.byId.get(node.inputs[0]);
  return src !== undefined && INPLACE_SAFE_PRODUCERS.has(src.op) && (ix.users.get(src.id) ?? []).length === 1 && !ix.outputs.has(src.id);
}

/** 4 paddings [top, bottom, left, right] as F.pad's (left, right, top, bottom). */
const padArgs = (p: readonly number[]) => `(${p[2]}, ${p[3]}, ${p[0]}, ${p[1]})`;
const symmetric = (p: readonly number[]) => p[0] === p[1] && p[2] === p[3];

export interface LeafCode {
  /** The module's constructor, or null for ops done in forward (add, mul, flatten). */
  ctor: Template | null;
  /** The forward expression from the input expressions and the module's attribute access. */
  call: (args: string[], self: string) => string;
}

export function leafCode(node: GraphNode, ix: GraphIndex, helpers: Set<HelperClass>): LeafCode {
  const inShape = node.inputs.length > 0 ? ix.byId.get(node.inputs[0])!.shape : [];
  const t = new TemplateBuilder();
  const plain = (args: string[], self: string) => `${self}(${args[0]})`;
  switch (node.op) {
    case 'input':
      throw new TorchEmitError(`the input node ${node.id} is the model's input, not a module`);
    case 'conv': {
      const a = node.attrs;
      const sym = symmetric(a.padding);
      t.lit('nn.Conv2d(').slot('in', pyNum(inShape[2])).lit(', ').slot('out', pyNum(a.filters));
      t.lit(', kernel_size=').slot('kernel', pair(a.kernel)).lit(', stride=').slot('stride', pair(a.stride));
      t.lit(', padding=').slot('padding', sym ? pair([a.padding[0], a.padding[2]]) : '0');
      if (a.dilation.some((d) => d !== 1)) t.lit(', dilation=').slot('dilation', pair(a.dilation));
      if (a.groups !== 1) t.lit(', groups=').slot('groups', pyNum(a.groups));
      t.lit(`, bias=${a.bias ? 'True' : 'False'})`);
      const pad = a.padding;
      return { ctor: t.done(), call: sym ? plain : (args, self) => `${self}(F.pad(${args[0]}, ${padArgs(pad)}))` };
    }
    case 'bn': {
      const a = node.attrs;
      t.lit(inShape.length === 3 ? 'nn.BatchNorm2d(' : 'nn.BatchNorm1d(').slot('channels', pyNum(node.shape[node.shape.length - 1]));
      if (a.epsilon !== 1e-5) t.lit(`, eps=${pyNum(a.epsilon)}`);
      if (a.momentum !== 0.1) t.lit(`, momentum=${pyNum(a.momentum)}`);
      return { ctor: t.lit(')').done(), call: plain };
    }
    case 'layernorm': {
      // nn.LayerNorm over channels; on a map, as torchvision's LayerNorm2d: NCHW -> NHWC and back.
      t.lit('nn.LayerNorm(').slot('channels', pyNum(node.shape[node.shape.length - 1]));
      if (node.attrs.epsilon !== 1e-5) t.lit(`, eps=${pyNum(node.attrs.epsilon)}`);
      const map = inShape.length === 3;
      return { ctor: t.lit(')').done(), call: map ? (args, self) => `${self}(${args[0]}.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)` : plain };
    }
    case 'layer_scale': {
      // An nn.Parameter of the enclosing module (CNBlock's self.layer_scale), so its key is the
      // node id; only an attribute assignment registers it, so the name must be a plain attribute.
      const local = node.id.slice(node.id.lastIndexOf('.') + 1);
      if (!safeAttr(local)) {
        const hint = 'name the layer with a letter first, then letters, digits or "_" (torchvision\'s is layer_scale), not a Python keyword or an attribute nn.Module has';
        throw new TorchEmitError(`layer_scale '${node.id}': its last name part must be a Python identifier that nn.Module does not use (it becomes an attribute holding an nn.Parameter)`, { code: 'torch-name', loc: node.loc, hint });
      }
      t.lit('nn.Parameter(torch.full((').slot('channels', pyNum(node.shape[2])).lit(`, 1, 1), ${pyNum(LAYER_SCALE_INIT)}))`);
      return { ctor: t.done(), call: (args, self) => `${self} * ${args[0]}` };
    }
    case 'relu':
    case 'relu6': {
      const cls = node.op === 'relu' ? 'nn.ReLU' : 'nn.ReLU6';
      return { ctor: t.lit(inplaceOk(node, ix) ? `${cls}(inplace=True)` : `${cls}()`).done(), call: plain };
    }
    case 'sigmoid':
      return { ctor: t.lit('nn.Sigmoid()').done(), call: plain };
    case 'silu':
      return { ctor: t.lit('nn.SiLU()').done(), call: plain };
    case 'tanh':
      return { ctor: t.lit('nn.Tanh()').done(), call: plain };
    case 'hardswish':
      return { ctor: t.lit('nn.Hardswish()').done(), call: plain };
    case 'hardsigmoid':
      return { ctor: t.lit('nn.Hardsigmoid()').done(), call: plain };
    case 'gelu':
      return { ctor: t.lit('nn.GELU()').done(), call: plain };
    case 'leaky_relu':
      return { ctor: t.lit(`nn.LeakyReLU(negative_slope=${pyNum(node.attrs.slope)})`).done(), call: plain };
    case 'maxpool':
    case 'avgpool': {
      const a = node.attrs;
      const sym = symmetric(a.padding);
      t.lit(node.op === 'maxpool' ? 'nn.MaxPool2d(kernel_size=' : 'nn.AvgPool2d(kernel_size=').slot('kernel', pair(a.kernel));
      t.lit(', stride=').slot('stride', pair(a.stride)).lit(', padding=').slot('padding', sym ? pair([a.padding[0], a.padding[2]]) : '0');
      // avgdown (ResNet-D, as timm): ceil mode, and the cells past the edge not counted.
      if (a.ceil) t.lit(node.op === 'avgpool' ? ', ceil_mode=True, count_include_pad=False' : ', ceil_mode=True');
      t.lit(')');
      const pad = a.padding;
      // PyTorch pads max-pool windows with -inf itself; uneven padding is F.pad's, with -inf (max) or zeros counted (avg, as count_include_pad).
      const fill = node.op === 'maxpool' ? ', value=float("-inf")' : '';
      return { ctor: t.done(), call: sym ? plain : (args, self) => `${self}(F.pad(${args[0]}, ${padArgs(pad)}${fill}))` };
    }
    case 'zeropad': {
      const p = node.attrs.padding;
      return { ctor: t.lit(`nn.ZeroPad2d(${padArgs(p)})`).done(), call: plain };
    }
    case 'subsample':
      helpers.add('Subsample');
      return { ctor: t.lit('Subsample(').slot('stride', pair(node.attrs.stride)).lit(')').done(), call: plain };
    case 'channel_pad':
      helpers.add('ChannelPad');
      return { ctor: t.lit('ChannelPad(').slot('before', pyNum(node.attrs.before)).lit(', ').slot('after', pyNum(node.attrs.after)).lit(')').done(), call: plain };
    case 'global_avg_pool':
      return {
        ctor: t.lit('nn.AdaptiveAvgPool2d((1, 1))').done(),
        call: node.attrs.keepdims ? plain : (args, self) => `torch.flatten(${self}(${args[0]}), 1)`,
      };
    case 'flatten':
      return { ctor: null, call: (args) => `torch.flatten(${args[0]}, 1)` };
    case 'dropout':
      return { ctor: t.lit(`nn.Dropout(p=${pyNum(node.attrs.rate)})`).done(), call: plain };
    case 'drop_path':
      helpers.add('DropPath');
      return { ctor: t.lit('DropPath(').slot('p', pyNum(node.attrs.rate)).lit(')').done(), call: plain };
    case 'dense':
      t.lit('nn.Linear(').slot('in', pyNum(inShape[inShape.length - 1])).lit(', ').slot('out', pyNum(node.attrs.units));
      // Pointwise: nn.Linear on the channels-last view, as ConvNeXt's permute, Linear, permute.
      return {
        ctor: t.lit(node.attrs.bias ? ')' : ', bias=False)').done(),
        call: node.attrs.pointwise ? (args, self) => `${self}(${args[0]}.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)` : plain,
      };
    case 'add':
      return { ctor: null, call: (args) => `${args[0]} + ${args[1]}` };
    case 'mul':
      return { ctor: null, call: (args) => `${args[0]} * ${args[1]}` };
    default:
      return unreachableOp(node, 'PyTorch');
  }
}
