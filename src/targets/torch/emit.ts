/**
 * The PyTorch target: a compiled graph as one readable, self-contained Python file (docs/torch.md
 * "The emitted file"). It consumes the compiled graph only: no TF.js, no other target.
 *
 * The module tree follows the node ids: `layer2.0.conv1` is the attribute `conv1` of block `0` of
 * the `layer2` Sequential, so the state_dict keys are the graph's names (torchvision's for
 * torchvision-shaped files). Each id prefix that groups nodes (a block, an SE unit, a downsample)
 * becomes a module: an nn.Sequential when its children form a chain, otherwise a class of its own
 * with a forward. Identical blocks share a class, whose varying numbers become constructor
 * arguments, and a residual block takes its projection as an optional `downsample` module, as
 * torchvision's BasicBlock and Bottleneck do. Shapes in the graph are channels-last; PyTorch's are
 * NCHW, which only the paddings (F.pad's order) and channel_pad's axis need to know.
 */
import { unreachableOp } from '../../compiler/ops.js';
import type { CompiledGraph, GraphNode, OpKind } from '../../compiler/types.js';

export interface TorchEmitOptions {
  /** The YAML path the header names (default: the graph's file). */
  source?: string;
  /** skipgraph's version, for the header and SKIPGRAPH. */
  version: string;
}

/** Every op this target emits (checked against compiler/ops.ts by test/compiler/ops.test.ts). */
export const TORCH_OPS: readonly OpKind[] = [
  'input',
  'conv',
  'bn',
  'relu',
  'relu6',
  'sigmoid',
  'silu',
  'tanh',
  'maxpool',
  'avgpool',
  'zeropad',
  'subsample',
  'channel_pad',
  'global_avg_pool',
  'flatten',
  'dropout',
  'drop_path',
  'dense',
  'add',
  'mul',
];

export class TorchEmitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TorchEmitError';
  }
}

// ---------------------------------------------------------------------------------------------
// Python text helpers

const PY_KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield match case type'.split(' '),
);
/** nn.Module's own attributes and methods: a child of that name would be shadowed (use add_module). */
const MODULE_ATTRS = new Set(
  'T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda double dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter get_submodule half ipu load_state_dict modules mtia named_buffers named_children named_modules named_parameters parameters register_backward_hook register_buffer register_forward_hook register_forward_pre_hook register_full_backward_hook register_full_backward_pre_hook register_load_state_dict_post_hook register_load_state_dict_pre_hook register_module register_parameter register_state_dict_post_hook register_state_dict_pre_hook requires_grad_ set_extra_state set_submodule share_memory state_dict to to_empty train training type xpu zero_grad'.split(' '),
);

const isIdent = (s: string) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) && !PY_KEYWORDS.has(s);
const safeAttr = (s: string) => isIdent(s) && !MODULE_ATTRS.has(s) && !s.startsWith('_');
const pyStr = (s: string) => JSON.stringify(s);
const attrGet = (name: string) => (safeAttr(name) ? `self.${name}` : `self._modules[${pyStr(name)}]`);
const attrSet = (name: string, expr: string) => (safeAttr(name) ? `self.${name} = ${expr}` : `self.add_module(${pyStr(name)}, ${expr})`);
const pyNum = (n: number) => (Number.isInteger(n) ? String(n) : String(n).includes('e') ? String(n) : String(n));
const pair = (v: readonly number[]) => (v[0] === v[1] ? pyNum(v[0]) : `(${pyNum(v[0])}, ${pyNum(v[1])})`);
/** Python identifier from a name (for parameters and classes). */
const ident = (s: string) => {
  const t = s.replace(/[^A-Za-z0-9_]/g, '_');
  const u = /^[A-Za-z_]/.test(t) ? t : `_${t}`;
  return PY_KEYWORDS.has(u) ? `${u}_` : u;
};
const camel = (s: string) => {
  const parts = s.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const c = parts.map((p) => p[0].toUpperCase() + p.slice(1)).join('');
  return /^[A-Za-z]/.test(c) ? c : `Net${c}`;
};
/** Indents every line of a multi-line expression after the first. */
const hang = (expr: string, by: string) => expr.split('\n').join(`\n${by}`);

// ---------------------------------------------------------------------------------------------
// Templates: constructor text with numbered slots, so that blocks that differ only in numbers share a class.

interface Slot {
  /** Suggested parameter name (conv1_out, stride). */
  name: string;
  value: string;
}

/** Text with \u0000<k>\u0000 markers for slots[k]. */
interface Template {
  text: string;
  slots: Slot[];
}

class TemplateBuilder {
  text = '';
  slots: Slot[] = [];
  lit(s: string): this {
    this.text += s;
    return this;
  }
  slot(name: string, value: string): this {
    this.text += `\u0000${this.slots.length}\u0000`;
    this.slots.push({ name, value });
    return this;
  }
  /** Appends another template (its slots renumbered). */
  sub(t: Template, prefix: string): this {
    const base = this.slots.length;
    this.text += t.text.replace(/\u0000(\d+)\u0000/g, (_, k) => `\u0000${base + Number(k)}\u0000`);
    for (const s of t.slots) this.slots.push({ name: prefix ? `${prefix}_${s.name}` : s.name, value: s.value });
    return this;
  }
  done(): Template {
    return { text: this.text, slots: this.slots };
  }
}

/** Fills a template's slots with their values, or (params) with parameter names. */
function render(t: Template, names?: (k: number) => string): string {
  return t.text.replace(/\u0000(\d+)\u0000/g, (_, k) => (names ? names(Number(k)) : t.slots[Number(k)].value));
}

// ---------------------------------------------------------------------------------------------
// The module tree

interface Leaf {
  kind: 'leaf';
  name: string;
  node: GraphNode;
}

interface Region {
  kind: 'region';
  /** Attribute name in the parent ('' for the root). */
  name: string;
  /** Dotted path ('' for the root). */
  path: string;
  children: Map<string, Leaf | Region>;
  /** Every node of the subtree, in graph order. */
  nodes: GraphNode[];
}

type Child = Leaf | Region;

/** Where the values a node uses come from, and who uses each value. */
interface GraphIndex {
  byId: Map<string, GraphNode>;
  position: Map<string, number>;
  users: Map<string, GraphNode[]>;
  output: string;
}

function buildTree(graph: CompiledGraph): Region {
  const root: Region = { kind: 'region', name: '', path: '', children: new Map(), nodes: [] };
  for (const node of graph.nodes) {
    if (node.op === 'input') continue;
    const segs = node.id.split('.');
    let r = root;
    r.nodes.push(node);
    for (let i = 0; i < segs.length - 1; i++) {
      const seg = segs[i];
      let next = r.children.get(seg);
      if (next === undefined) {
        next = { kind: 'region', name: seg, path: segs.slice(0, i + 1).join('.'), children: new Map(), nodes: [] };
        r.children.set(seg, next);
      }
      if (next.kind === 'leaf') throw new TorchEmitError(`the node names "${next.node.id}" and "${node.id}" cannot both be PyTorch modules: one would hold the other; rename one of them`);
      next.nodes.push(node);
      r = next;
    }
    const last = segs[segs.length - 1];
    if (r.children.has(last)) throw new TorchEmitError(`the node names "${node.id}" and "${node.id}.*" cannot both be PyTorch modules: one would hold the other; rename one of them`);
    r.children.set(last, { kind: 'leaf', name: last, node });
  }
  return root;
}

const nodesOf = (c: Child): GraphNode[] => (c.kind === 'leaf' ? [c.node] : c.nodes);

/** The values a set of nodes reads from outside, and those it gives outside, in graph order. */
function boundary(nodes: GraphNode[], ix: GraphIndex): { inputs: string[]; outputs: string[] } {
  const inside = new Set(nodes.map((n) => n.id));
  const inputs: string[] = [];
  for (const n of nodes) for (const i of n.inputs) if (!inside.has(i) && !inputs.includes(i)) inputs.push(i);
  const outputs = nodes.filter((n) => n.id === ix.output || (ix.users.get(n.id) ?? []).some((u) => !inside.has(u.id))).map((n) => n.id);
  return { inputs, outputs };
}

/**
 * A child region can be called as one module when it runs in one piece: everything it reads is
 * ready before its first node, and nothing outside reads its values before its last node.
 */
function callable(r: Region, ix: GraphIndex): boolean {
  const first = ix.position.get(r.nodes[0].id)!;
  const last = ix.position.get(r.nodes[r.nodes.length - 1].id)!;
  const { inputs, outputs } = boundary(r.nodes, ix);
  if (outputs.length === 0) return false;
  if (inputs.some((i) => ix.position.get(i)! > first)) return false;
  const inside = new Set(r.nodes.map((n) => n.id));
  for (const o of outputs) for (const u of ix.users.get(o) ?? []) if (!inside.has(u.id) && ix.position.get(u.id)! < last) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Leaves: one module (or none) per node, and the forward expression around it

/** Ops whose output a later in-place op may overwrite: fresh tensors that autograd does not keep. */
const INPLACE_SAFE_PRODUCERS = new Set<OpKind>(['conv', 'bn', 'add', 'dense']);

function inplaceOk(node: GraphNode, ix: GraphIndex): boolean {
  const src = ix.byId.get(node.inputs[0]);
  return src !== undefined && INPLACE_SAFE_PRODUCERS.has(src.op) && (ix.users.get(src.id) ?? []).length === 1 && src.id !== ix.output;
}

/** 4 paddings [top, bottom, left, right] as F.pad's (left, right, top, bottom). */
const padArgs = (p: readonly number[]) => `(${p[2]}, ${p[3]}, ${p[0]}, ${p[1]})`;
const symmetric = (p: readonly number[]) => p[0] === p[1] && p[2] === p[3];

interface LeafCode {
  /** The module's constructor, or null for ops done in forward (add, mul, flatten). */
  ctor: Template | null;
  /** The forward expression from the input expressions and the module's attribute access. */
  call: (args: string[], self: string) => string;
}

function leafCode(node: GraphNode, ix: GraphIndex, helpers: Set<string>): LeafCode {
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
      t.lit('nn.Linear(').slot('in', pyNum(inShape[0])).lit(', ').slot('out', pyNum(node.attrs.units));
      return { ctor: t.lit(node.attrs.bias ? ')' : ', bias=False)').done(), call: plain };
    case 'add':
      return { ctor: null, call: (args) => `${args[0]} + ${args[1]}` };
    case 'mul':
      return { ctor: null, call: (args) => `${args[0]} * ${args[1]}` };
    default:
      return unreachableOp(node, 'PyTorch');
  }
}

// ---------------------------------------------------------------------------------------------
// Regions: Sequential, or a class with a forward
//
// A child class instance appears in its parent's template as a marker:
//   \u0001<key id>\u0001( slot \u0003 slot ... [\u0004 optional module] )\u0005
// carrying every number of the child as a slot of the parent, so that a parent class can pass
// its own parameters down. Markers are resolved (innermost first) once the classes are known.

/** A residual block's projection, passed in as an optional module (torchvision's `downsample`). */
interface OptionalShortcut {
  /** Attribute name (downsample). */
  attr: string;
  /** The value it projects: null for the block input, else its pre-activated form (a local id). */
  src: string | null;
}

interface ClassInstance {
  region: Region;
  keyId: number;
  baseName: string;
  init: Template;
  forward: string[];
  inputs: string[];
  optional: OptionalShortcut | null;
  /** This instance's optional module (a template), or null where it has none. */
  optionalCtor: Template | null;
}

interface PyClass {
  name: string;
  instances: ClassInstance[];
  /** Per slot of the init template: parameter index or -1 (a constant). */
  slotParam: number[];
  params: string[];
}

const MARK = { open: '\u0001', sep: '\u0003', opt: '\u0004', close: '\u0005' };

class Emitter {
  readonly helpers = new Set<string>();
  readonly instances: ClassInstance[] = [];
  readonly keys: string[] = [];
  private readonly leafCache = new Map<string, LeafCode>();
  private readonly ctorCache = new Map<Region, Template | null>();
  private readonly seqCache = new Map<Region, boolean>();
  /** The optional-shortcut form each block region takes (decided before any code: see chooseOptional). */
  readonly optionalOf = new Map<Region, OptionalShortcut | null>();

  constructor(readonly ix: GraphIndex) {}

  leaf(node: GraphNode): LeafCode {
    let c = this.leafCache.get(node.id);
    if (c === undefined) {
      c = leafCode(node, this.ix, this.helpers);
      this.leafCache.set(node.id, c);
    }
    return c;
  }

  /** The constructor of a child as a template (null: an op done in forward). */
  ctorOf(c: Child): Template | null {
    if (c.kind === 'leaf') return this.leaf(c.node).ctor;
    if (this.ctorCache.has(c)) return this.ctorCache.get(c)!;
    let t: Template;
    if (this.isSequential(c)) t = this.sequential(c);
    else if (!callable(c, this.ix)) t = this.container(c);
    else {
      const inst = this.classInstance(c);
      const b = new TemplateBuilder().lit(`${MARK.open}${inst.keyId}${MARK.open}(`);
      inst.init.slots.forEach((s, k) => {
        if (k > 0) b.lit(MARK.sep);
        b.slot(s.name, s.value);
      });
      if (inst.optional) {
        b.lit(MARK.opt);
        if (inst.optionalCtor) b.sub(inst.optionalCtor, inst.optional.attr);
        else b.lit('None');
      }
      t = b.lit(`)${MARK.close}`).done();
    }
    this.ctorCache.set(c, t);
    return t;
  }

  /** Whether a region is a chain of numbered children (downsample.0, .1; layer1.0, .1, ...): an nn.Sequential. */
  isSequential(r: Region): boolean {
    const known = this.seqCache.get(r);
    if (known !== undefined) return known;
    const ok = (() => {
      const keys = [...r.children.keys()];
      if (!keys.every((k) => /^(0|[1-9]\d{0,5})$/.test(k))) return false;
      const { inputs, outputs } = boundary(r.nodes, this.ix);
      if (inputs.length !== 1 || outputs.length !== 1) return false;
      const max = Math.max(...keys.map(Number));
      if (max > 2 * keys.length + 8) return false;
      let cur = inputs[0];
      for (let k = 0; k <= max; k++) {
        const c = r.children.get(String(k));
        if (c === undefined) continue; // nn.Identity() keeps the numbering (timm's avgdown without its pool)
        const b = boundary(nodesOf(c), this.ix);
        if (b.inputs.length !== 1 || b.inputs[0] !== cur || b.outputs.length !== 1) return false;
        if (c.kind === 'leaf') {
          const code = this.leaf(c.node);
          if (code.ctor === null || code.call(['x'], 'm') !== 'm(x)') return false;
        } else if (!this.isSequential(c) && !callable(c, this.ix)) return false;
        cur = b.outputs[0];
      }
      return cur === outputs[0];
    })();
    this.seqCache.set(r, ok);
    return ok;
  }

  sequential(r: Region): Template {
    const max = Math.max(...[...r.children.keys()].map(Number));
    const t = new TemplateBuilder().lit('nn.Sequential(');
    for (let k = 0; k <= max; k++) {
      const c = r.children.get(String(k));
      const ctor = c === undefined ? null : this.ctorOf(c);
      t.lit('\n    ');
      if (ctor === null) t.lit('nn.Identity()');
      else t.sub({ text: hang(ctor.text, '    '), slots: ctor.slots }, `m${k}`);
      t.lit(',');
    }
    return t.lit('\n)').done();
  }

  /** Modules that run as part of their parent's forward (they do not run as one piece). */
  container(r: Region): Template {
    this.helpers.add('Container');
    const t = new TemplateBuilder().lit('Container(');
    for (const [name, c] of r.children) {
      const ctor = this.ctorOf(c);
      if (ctor === null) continue;
      t.lit(isIdent(name) ? `\n    ${name}=` : `\n    **{${pyStr(name)}: `);
      t.sub({ text: hang(ctor.text, '    '), slots: ctor.slots }, ident(name));
      t.lit(isIdent(name) ? ',' : '},');
    }
    return t.lit('\n)').done();
  }

  /** The shortcut child of a residual block that can be an optional module, with the value it reads. */
  shortcutChild(r: Region): { child: Child; src: string; add: Leaf } | null {
    const add = addLeafOf(r);
    if (add === undefined) return null;
    for (const c of r.children.values()) {
      const ns = nodesOf(c);
      if (!ns.every((n) => n.path === 'shortcut')) continue;
      const b = boundary(ns, this.ix);
      if (b.outputs.length !== 1 || b.outputs[0] !== add.node.inputs[1] || b.inputs.length !== 1) continue;
      if (this.ix.byId.get(b.inputs[0])?.path === 'shortcut') continue; // a part of the shortcut, not all of it
      if (c.kind === 'region' && !this.isSequential(c) && !callable(c, this.ix)) continue;
      if (c.kind === 'leaf' && this.leaf(c.node).ctor === null) continue;
      if (!safeAttr(c.name)) continue;
      return { child: c, src: b.inputs[0], add };
    }
    return null;
  }

  /** The form a block takes on its own: its shortcut module, or (no shortcut) an identity add. */
  naturalOptional(r: Region): OptionalShortcut | null {
    const { inputs } = boundary(r.nodes, this.ix);
    if (inputs.length !== 1) return null;
    const sc = this.shortcutChild(r);
    if (sc) return { attr: sc.child.name, src: sc.src === inputs[0] ? null : local(sc.src, r) };
    const add = addLeafOf(r);
    if (add && add.node.inputs[1] === inputs[0]) return { attr: 'downsample', src: null };
    return null;
  }

  classInstance(r: Region): ClassInstance {
    const ix = this.ix;
    const { inputs, outputs } = boundary(r.nodes, ix);
    const opt = this.optionalOf.get(r) ?? null;
    const sc = opt ? this.shortcutChild(r) : null;
    const addLeaf = addLeafOf(r);

    interface Item {
      at: number;
      inputs: string[];
      outputs: string[];
      line: (vars: string[]) => string;
      /** The node, for a leaf. */
      node?: GraphNode;
    }
    const items: Item[] = [];
    const initT = new TemplateBuilder();
    const addCtor = (name: string, t: Template | null) => {
      if (t === null) return;
      initT.lit(safeAttr(name) ? `\n        self.${name} = ` : `\n        self.add_module(${pyStr(name)}, `).sub({ text: hang(t.text, '        '), slots: t.slots }, ident(name));
      if (!safeAttr(name)) initT.lit(')');
    };
    const accessOf = (prefix: string, name: string) => {
      const segs = prefix ? [...prefix.split('.'), name] : [name];
      return [attrGet(segs[0]), ...segs.slice(1).map((s) => (safeAttr(s) ? s : `_modules[${pyStr(s)}]`))].join('.');
    };
    const walk = (reg: Region, prefix: string) => {
      for (const [name, c] of reg.children) {
        if (sc && c === sc.child) continue;
        const access = accessOf(prefix, name);
        if (c.kind === 'leaf') {
          const code = this.leaf(c.node);
          if (prefix === '') addCtor(name, code.ctor);
          items.push({ at: ix.position.get(c.node.id)!, inputs: [...c.node.inputs], outputs: [c.node.id], line: (v) => code.call(v, access), node: c.node });
          continue;
        }
        if (this.isSequential(c) || callable(c, ix)) {
          if (prefix === '') addCtor(name, this.ctorOf(c));
          const b = boundary(c.nodes, ix);
          items.push({ at: ix.position.get(c.nodes[c.nodes.length - 1].id)!, inputs: b.inputs, outputs: b.outputs, line: (v) => `${access}(${v.join(', ')})` });
          continue;
        }
        if (prefix === '') addCtor(name, this.ctorOf(c));
        walk(c, prefix ? `${prefix}.${name}` : name);
      }
    };
    walk(r, '');
    let optionalCtor: Template | null = null;
    const virtualId = '\u0002identity';
    if (opt && addLeaf) {
      // `identity = x if self.downsample is None else self.downsample(src)`, just before the add.
      const src = opt.src === null ? inputs[0] : `${r.path}.${opt.src}`;
      const attr = attrGet(opt.attr);
      items.push({ at: ix.position.get(addLeaf.node.id)! - 0.5, inputs: [inputs[0], src], outputs: [virtualId], line: (v) => `${v[0]} if ${attr} is None else ${attr}(${v[1]})` });
      const addItem = items.find((it) => it.outputs[0] === addLeaf.node.id)!;
      addItem.inputs = [addItem.inputs[0], virtualId];
      if (sc) optionalCtor = this.ctorOf(sc.child);
    }
    items.sort((a, b) => a.at - b.at);
    const done = new Set(inputs);
    for (const it of items) {
      for (const i of it.inputs) if (!done.has(i)) throw new TorchEmitError(`internal: ${r.path || 'the model'}: ${i} is used before it is computed`);
      it.outputs.forEach((o) => done.add(o));
    }

    // Variables: a name is reused once its value is dead (torchvision's `out = self.bn1(out)`).
    const lastUse = new Map<string, number>();
    items.forEach((it, k) => it.inputs.forEach((i) => lastUse.set(i, k)));
    for (const o of outputs) lastUse.set(o, Infinity);
    const varOf = new Map<string, string>();
    const inNames = inputs.map((_, k) => (k === 0 ? 'x' : `x${k}`));
    inputs.forEach((i, k) => varOf.set(i, inNames[k]));
    const live = new Set(inNames.filter((_, k) => lastUse.has(inputs[k])));
    const forward: string[] = [];
    const fresh = (pref: string[]) => {
      for (const p of pref) if (!live.has(p)) return p;
      for (let k = 1; ; k++) if (!live.has(`h${k}`)) return `h${k}`;
    };
    items.forEach((it, k) => {
      const argVars = it.inputs.map((i) => varOf.get(i)!);
      for (const i of new Set(it.inputs)) if (lastUse.get(i) === k) live.delete(varOf.get(i)!);
      const outVars = it.outputs.map((o) => {
        if (it.outputs.length === 1 && argVars.length > 0 && !live.has(argVars[0]) && o !== virtualId) return argVars[0];
        const node = ix.byId.get(o);
        return fresh(o === virtualId || node?.path === 'shortcut' ? ['identity', 'out', 'y'] : ['out', 'x', 'y', 'z']);
      });
      outVars.forEach((v, j) => {
        varOf.set(it.outputs[j], v);
        if ((lastUse.get(it.outputs[j]) ?? -1) > k) live.add(v);
      });
      const node = it.node;
      if (node?.op === 'add' && outVars[0] === argVars[0] && inplaceOk(node, ix)) forward.push(`${outVars[0]} += ${argVars[1]}`);
      else forward.push(`${outVars.join(', ')} = ${it.line(argVars)}`);
    });
    forward.push(`return ${outputs.map((o) => varOf.get(o)!).join(', ')}`);

    const init = initT.done();
    const baseName = classBaseName(r, ix);
    const key = JSON.stringify([baseName, init.text, forward, inNames, opt]);
    let keyId = this.keys.indexOf(key);
    if (keyId < 0) keyId = this.keys.push(key) - 1;
    const inst: ClassInstance = { region: r, keyId, baseName, init, forward, inputs: inNames, optional: opt, optionalCtor };
    this.instances.push(inst);
    return inst;
  }

  /**
   * Blocks of the same shape, some with a shortcut module and some without, share a class
   * (torchvision's optional downsample): those without take the form of one that has it.
   */
  chooseOptional(root: Region): void {
    const regions: Region[] = [];
    const visit = (r: Region) => {
      for (const c of r.children.values()) if (c.kind === 'region') visit(c);
      if (r !== root) regions.push(r);
    };
    visit(root);
    const shapeKey = (r: Region) => JSON.stringify([classBaseName(r, this.ix), r.nodes.filter((n) => n.path !== 'shortcut').map((n) => [local(n.id, r), n.op, (n.op === 'add' ? n.inputs.slice(0, 1) : n.inputs).map((i) => local(i, r))])]);
    const natural = new Map(regions.map((r) => [r, this.naturalOptional(r)]));
    const form = new Map<string, OptionalShortcut>();
    for (const r of regions) {
      const o = natural.get(r);
      if (o && this.shortcutChild(r) && !form.has(shapeKey(r))) form.set(shapeKey(r), o);
    }
    for (const r of regions) {
      const o = natural.get(r) ?? null;
      if (o === null) continue;
      const chosen = this.shortcutChild(r) ? o : (form.get(shapeKey(r)) ?? o);
      this.optionalOf.set(r, chosen);
    }
  }
}

const addLeafOf = (r: Region): Leaf | undefined => [...r.children.values()].find((c): c is Leaf => c.kind === 'leaf' && c.node.op === 'add');

/** A node's id relative to a region (`layer1.0.relu1` in `layer1.0`: `relu1`). */
function local(id: string, r: Region): string {
  return r.path && id.startsWith(`${r.path}.`) ? id.slice(r.path.length + 1) : '^';
}

/** torchvision's class names where the block is one of its kinds; a name from the ids otherwise. */
function classBaseName(r: Region, ix: GraphIndex): string {
  const ops = [...r.children.values()].flatMap((c) => (c.kind === 'leaf' ? [c.node.op] : []));
  if (ops.includes('add')) {
    const main = r.nodes.filter((n) => n.op === 'conv' && n.path !== 'shortcut' && !local(n.id, r).includes('.'));
    const first = r.nodes[0];
    const pre = first.op === 'bn' && !r.nodes.some((n) => n.id === first.inputs[0]) && ix.byId.has(first.inputs[0]);
    const kind = main.length === 2 ? 'BasicBlock' : main.length === 3 ? 'Bottleneck' : 'Block';
    return pre ? `PreAct${kind}` : kind;
  }
  if (ops.length === r.nodes.length && ops.length <= 7 && ops.includes('mul') && ops.includes('global_avg_pool')) return 'SqueezeExcitation';
  return camel(r.name) || 'Module';
}

// ---------------------------------------------------------------------------------------------
// Classes from instances: constant slots stay numbers, varying ones become parameters

function assignClasses(em: Emitter, exclude: ClassInstance): Map<number, PyClass> {
  const byKey = new Map<number, ClassInstance[]>();
  for (const inst of em.instances) if (inst !== exclude) byKey.set(inst.keyId, [...(byKey.get(inst.keyId) ?? []), inst]);
  const used = new Map<string, number>();
  const classes = new Map<number, PyClass>();
  // Children first (they were made first): the file reads bottom-up, as torchvision's.
  for (const [keyId, group] of [...byKey.entries()].sort((a, b) => a[0] - b[0])) {
    const base = group[0].baseName;
    const n = (used.get(base) ?? 0) + 1;
    used.set(base, n);
    const slotParam: number[] = [];
    const raw: string[] = [];
    const vectors: string[] = [];
    group[0].init.slots.forEach((s, k) => {
      const values = group.map((g) => g.init.slots[k].value);
      if (values.every((v) => v === values[0])) return slotParam.push(-1);
      const vec = JSON.stringify(values);
      const same = vectors.indexOf(vec);
      if (same >= 0) return slotParam.push(same);
      vectors.push(vec);
      raw.push(s.name);
      return slotParam.push(raw.length - 1);
    });
    classes.set(keyId, { name: n === 1 ? base : `${base}${n}`, instances: group, slotParam, params: niceNames(raw) });
  }
  return classes;
}

/** conv1_in -> in_channels (the first), a lone *_stride -> stride, ...; identifiers, unique. */
function niceNames(raw: string[]): string[] {
  const out: string[] = [];
  const count = (suffix: string) => raw.filter((r) => r.endsWith(`_${suffix}`) || r === suffix).length;
  raw.forEach((r, k) => {
    let name = ident(r);
    if (k === 0 && /(^|_)in$/.test(r)) name = 'in_channels';
    else for (const s of ['stride', 'dilation', 'groups']) if ((r.endsWith(`_${s}`) || r === s) && count(s) === 1) name = s;
    while (out.includes(name) || name === 'self' || name === 'downsample') name = `${name}_`;
    out.push(name);
  });
  return out;
}

/** Resolves the class markers of a rendered text to constructor calls, innermost first. */
function resolveMarkers(text: string, classes: Map<number, PyClass>): string {
  const re = new RegExp(`${MARK.open}(\\d+)${MARK.open}\\(([^${MARK.open}${MARK.close}]*)\\)${MARK.close}`);
  let s = text;
  for (;;) {
    const m = re.exec(s);
    if (m === null) return s;
    const cls = classes.get(Number(m[1]))!;
    const [slotPart, optPart] = m[2].split(MARK.opt);
    const values = slotPart === '' ? [] : slotPart.split(MARK.sep);
    const args = cls.params.map((_, p) => values[cls.slotParam.indexOf(p)]);
    const opt = cls.instances[0].optional;
    if (opt && optPart !== undefined && optPart !== 'None') args.push(`${opt.attr}=${optPart}`);
    s = s.slice(0, m.index) + `${cls.name}(${args.join(', ')})` + s.slice(m.index + m[0].length);
  }
}

function classText(cls: PyClass, classes: Map<number, PyClass>): string {
  const inst = cls.instances[0];
  const isInt = (p: number) => cls.instances.every((g) => /^\d+$/.test(g.init.slots[cls.slotParam.indexOf(p)].value));
  const sig = ['self', ...cls.params.map((p, k) => (isInt(k) ? `${p}: int` : p))];
  if (inst.optional) sig.push(`${inst.optional.attr}: Optional[nn.Module] = None`);
  const body = resolveMarkers(render(inst.init, (k) => (cls.slotParam[k] >= 0 ? cls.params[cls.slotParam[k]] : inst.init.slots[k].value)), classes);
  const lines = [`class ${cls.name}(nn.Module):`, `    def __init__(${sig.join(', ')}) -> None:`, '        super().__init__()'];
  lines.push(...body.split('\n').filter((l) => l.trim() !== ''));
  if (inst.optional) lines.push(`        ${attrSet(inst.optional.attr, inst.optional.attr)}`);
  lines.push('', `    def forward(${['self', ...inst.inputs.map((i) => `${i}: torch.Tensor`)].join(', ')}) -> torch.Tensor:`);
  for (const f of inst.forward) lines.push(`        ${f}`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

const HELPERS: Record<string, string> = {
  Subsample: `class Subsample(nn.Module):
    """x[:, :, ::s, ::s]: the parameter-free shortcut of CIFAR ResNets ("option A")."""

    def __init__(self, stride) -> None:
        super().__init__()
        self.stride = (stride, stride) if isinstance(stride, int) else tuple(stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, :: self.stride[0], :: self.stride[1]]`,
  ChannelPad: `class ChannelPad(nn.Module):
    """Zero channels before and after the existing ones (option A's channel growth)."""

    def __init__(self, before: int, after: int) -> None:
        super().__init__()
        self.before = before
        self.after = after

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, (0, 0) * (x.dim() - 2) + (self.before, self.after))`,
  DropPath: `class DropPath(nn.Module):
    """Stochastic depth (timm's DropPath): in training each sample's branch is kept with probability 1 - p and scaled by 1 / (1 - p)."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep`,
  Container: `class Container(nn.Module):
    """Holds modules that its parent's forward calls one by one (they do not run as one piece)."""

    def __init__(self, **modules: nn.Module) -> None:
        super().__init__()
        for name, m in modules.items():
            self.add_module(name, m)`,
};

/** The batch norms that end each block's main path (zero_init_residual), as the TF.js runtime picks them. */
function lastBlockBatchNorms(graph: CompiledGraph, ix: GraphIndex): string[] {
  const found = new Set<string>();
  const passThrough = new Set<OpKind>(['relu', 'relu6', 'sigmoid', 'silu', 'tanh', 'mul', 'dropout', 'drop_path']);
  for (const node of graph.nodes) {
    if (node.op === 'bn' && node.attrs.blockLast === true) found.add(node.id);
    if (node.op !== 'add') continue;
    let cur = ix.byId.get(node.inputs[0]);
    while (cur !== undefined && passThrough.has(cur.op)) cur = ix.byId.get(cur.inputs[0]);
    if (cur?.op === 'bn') found.add(cur.id);
  }
  return graph.nodes.filter((n) => found.has(n.id)).map((n) => n.id);
}

/** The Python source of the PyTorch module for a compiled graph. */
export function emitTorch(graph: CompiledGraph, options: TorchEmitOptions): string {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const position = new Map(graph.nodes.map((n, k) => [n.id, k]));
  const users = new Map<string, GraphNode[]>();
  for (const n of graph.nodes) for (const i of n.inputs) users.set(i, [...(users.get(i) ?? []), n]);
  const ix: GraphIndex = { byId, position, users, output: graph.output };
  if (graph.nodes[0]?.op !== 'input') throw new TorchEmitError('internal: the graph does not start with its input');

  const tree = buildTree(graph);
  const em = new Emitter(ix);
  em.chooseOptional(tree);
  const root = em.classInstance(tree);
  const classes = assignClasses(em, root);
  const names = new Set([...classes.values()].map((c) => c.name));
  let modelName = camel(graph.name);
  while (names.has(modelName) || ['Subsample', 'ChannelPad', 'Container'].includes(modelName)) modelName += 'Net';

  const source = options.source ?? graph.file;
  const { height, width, channels } = graph.input;
  const outShape = byId.get(graph.output)!.shape;
  const zeroInit = lastBlockBatchNorms(graph, ix);
  const out: string[] = [
    `# ${graph.name}: a PyTorch module generated by skipgraph ${options.version} from ${source}.`,
    `# Regenerate it with: skipgraph export ${source} --target torch`,
    `# Input: float32 NCHW [N, ${channels}, ${height}, ${width}]; output [N, ${(outShape.length === 3 ? [outShape[2], outShape[0], outShape[1]] : outShape).join(', ')}].`,
    "# state_dict keys are the compiled graph's node names. Imports torch only (1.13 and 2.x).",
    '',
    'from typing import Optional',
    '',
    'import torch',
    'import torch.nn as nn',
    'import torch.nn.functional as F',
    '',
    `SKIPGRAPH = {"name": ${pyStr(graph.name)}, "input": [${channels}, ${height}, ${width}], "classes": ${graph.classes}, "source": ${pyStr(source)}, "version": ${pyStr(options.version)}}`,
    '',
  ];
  for (const h of ['Subsample', 'ChannelPad', 'DropPath', 'Container']) if (em.helpers.has(h)) out.push('', HELPERS[h], '');
  for (const cls of classes.values()) out.push('', classText(cls, classes), '');

  const body = resolveMarkers(render(root.init), classes);
  out.push('', `class ${modelName}(nn.Module):`, `    """${graph.name}, compiled by skipgraph from ${source.replace(/["\\]/g, '_')}."""`, '');
  out.push('    def __init__(self, zero_init_residual: bool = False) -> None:', '        super().__init__()');
  out.push(...body.split('\n').filter((l) => l.trim() !== ''));
  out.push(
    '',
    '        for m in self.modules():',
    '            if isinstance(m, nn.Conv2d):',
    '                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")',
    '            elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):',
    '                nn.init.constant_(m.weight, 1)',
    '                nn.init.constant_(m.bias, 0)',
    '        if zero_init_residual:',
    '            for name in ZERO_INIT_RESIDUAL:',
    '                nn.init.constant_(self.get_submodule(name).weight, 0)',
    '',
    '    def forward(self, x: torch.Tensor) -> torch.Tensor:',
    ...root.forward.map((f) => `        ${f}`),
    '',
    '',
    "# The batch norms that end each residual block's main path: zero_init_residual starts their weight at 0.",
    `ZERO_INIT_RESIDUAL = [${zeroInit.length > 0 ? `\n${zeroInit.map((z) => `    ${pyStr(z)},`).join('\n')}\n` : ''}]`,
    '',
    '',
    'def build_model(zero_init_residual: bool = False) -> nn.Module:',
    `    """A freshly initialised ${modelName}, with torchvision's initialisation."""`,
    `    return ${modelName}(zero_init_residual=zero_init_residual)`,
    '',
  );
  return out.join('\n').replace(/\n{4,}/g, '\n\n\n');
}
