/**
 * Regions as modules: an nn.Sequential where the children form a chain, a Container where they
 * do not run as one piece, otherwise an instance of a class of its own (instance.ts). A residual
 * block takes its projection as an optional module, as torchvision's BasicBlock and Bottleneck do.
 */
import type { GraphNode } from '../../compiler/types.js';
import { classBaseName, classInstance, type ClassInstance } from './instance.js';
import { inplaceOk, leafCode, type HelperClass, type LeafCode } from './leaves.js';
import { ident, isIdent, pyStr, safeAttr } from './quote.js';
import { hangTemplate, TemplateBuilder, type Template } from './template.js';
import { addLeafOf, boundary, callable, local, nodesOf, type Child, type GraphIndex, type Leaf, type Region } from './tree.js';

/** A residual block's projection, passed in as an optional module (torchvision's `downsample`). */
export interface OptionalShortcut {
  /** Attribute name (downsample). */
  attr: string;
  /** The value it projects: null for the block input, else its pre-activated form (a local id). */
  src: string | null;
}

export class Emitter {
  readonly helpers = new Set<HelperClass>();
  readonly instances: ClassInstance[] = [];
  readonly keys: string[] = [];
  private readonly leafCache = new Map<string, LeafCode>();
  private readonly ctorCache = new Map<Region, Template | null>();
  private readonly seqCache = new Map<Region, boolean>();
  /** The optional-shortcut form each block region takes (decided before any code: see chooseOptional). */
  readonly optionalOf = new Map<Region, OptionalShortcut | null>();

  /** `reserved`: names an optional module's parameter may not take (they are read in the constructor). */
  constructor(
    readonly ix: GraphIndex,
    private readonly reserved: ReadonlySet<string>,
  ) {}

  leaf(node: GraphNode): LeafCode {
    let c = this.leafCache.get(node.id);
    if (c === undefined) {
      c = leafCode(node, this.ix, this.helpers);
      this.leafCache.set(node.id, c);
    }
    return c;
  }

  inplaceOk(node: GraphNode): boolean {
    return inplaceOk(node, this.ix);
  }

  classInstance(r: Region): ClassInstance {
    const inst = classInstance(this, r);
    this.instances.push(inst);
    return inst;
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
      const optional = inst.optional ? { attr: inst.optional.attr, ctor: inst.optionalCtor } : null;
      t = new TemplateBuilder().call(inst.keyId, inst.init.slots, optional).done();
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
      else t.sub(hangTemplate(ctor, '    '), `m${k}`);
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
      t.sub(hangTemplate(ctor, '    '), ident(name));
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
      // Its name becomes a constructor parameter: never one of the file's names, which the constructor reads.
      if (!safeAttr(c.name) || this.reserved.has(c.name) || /^[A-Z]/.test(c.name)) continue;
      return { child: c, src: b.inputs[0], add };
    }
    return null;
  }

  /** The form a block takes on its own: its shortcut module, or (no shortcut) an identity add. */
  naturalOptional(r: Region): OptionalShortcut | null {
    const { inputs } = boundary(r.nodes, this.ix);
    if (inputs.length !== 1) return null;
    const sc = this.shortcutChild(r);
    if (sc) {
      if (sc.src === inputs[0]) return { attr: sc.child.name, src: null };
      const src = local(sc.src, r);
      return src === null ? null : { attr: sc.child.name, src };
    }
    const add = addLeafOf(r);
    if (add && add.node.inputs[1] === inputs[0]) return { attr: 'downsample', src: null };
    return null;
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
