/**
 * One region as an instance of a class with a forward: its constructor as a template (numbers as
 * slots, child classes as calls), its forward lines, and the key that identical blocks share.
 */
import type { GraphNode } from '../../compiler/types.js';
import { TorchEmitError } from './error.js';
import { attrGet, attrPath, attrSet, camel, ident } from './quote.js';
import type { Emitter, OptionalShortcut } from './regions.js';
import { hangTemplate, TemplateBuilder, type Template } from './template.js';
import { addLeafOf, boundary, callable, local, type GraphIndex, type Region } from './tree.js';

export interface ClassInstance {
  region: Region;
  /** Instances with the same key are one class. */
  keyId: number;
  baseName: string;
  init: Template;
  forward: string[];
  inputs: string[];
  optional: OptionalShortcut | null;
  /** This instance's optional module (a template), or null where it has none. */
  optionalCtor: Template | null;
}

/** One step of a forward: a leaf's expression, or a call of a child module. */
interface Item {
  at: number;
  inputs: string[];
  outputs: string[];
  line: (vars: string[]) => string;
  /** The node, for a leaf. */
  node?: GraphNode;
}

export function classInstance(em: Emitter, r: Region): ClassInstance {
  const ix = em.ix;
  const { inputs, outputs } = boundary(r.nodes, ix);
  const opt = em.optionalOf.get(r) ?? null;
  const sc = opt ? em.shortcutChild(r) : null;
  const addLeaf = addLeafOf(r);

  const items: Item[] = [];
  const initT = new TemplateBuilder();
  const addCtor = (name: string, t: Template | null) => {
    if (t === null) return;
    const [before, after] = attrSet(name);
    initT.lit(`\n        ${before}`).sub(hangTemplate(t, '        '), ident(name));
    if (after) initT.lit(after);
  };
  const walk = (reg: Region, prefix: string) => {
    for (const [name, c] of reg.children) {
      if (sc && c === sc.child) continue;
      const access = attrPath(prefix ? [...prefix.split('.'), name] : [name]);
      if (c.kind === 'leaf') {
        const code = em.leaf(c.node);
        if (prefix === '') addCtor(name, code.ctor);
        items.push({ at: ix.position.get(c.node.id)!, inputs: [...c.node.inputs], outputs: [c.node.id], line: (v) => code.call(v, access), node: c.node });
        continue;
      }
      if (em.isSequential(c) || callable(c, ix)) {
        if (prefix === '') addCtor(name, em.ctorOf(c));
        const b = boundary(c.nodes, ix);
        items.push({ at: ix.position.get(c.nodes[c.nodes.length - 1].id)!, inputs: b.inputs, outputs: b.outputs, line: (v) => `${access}(${v.join(', ')})` });
        continue;
      }
      if (prefix === '') addCtor(name, em.ctorOf(c));
      walk(c, prefix ? `${prefix}.${name}` : name);
    }
  };
  walk(r, '');
  let optionalCtor: Template | null = null;
  // The value `identity` holds: a key that no node has.
  let virtualId = 'identity';
  while (ix.byId.has(virtualId)) virtualId = `_${virtualId}`;
  if (opt && addLeaf) {
    // `identity = x if self.downsample is None else self.downsample(src)`, just before the add.
    const src = opt.src === null ? inputs[0] : `${r.path}.${opt.src}`;
    const attr = attrGet(opt.attr);
    items.push({ at: ix.position.get(addLeaf.node.id)! - 0.5, inputs: [inputs[0], src], outputs: [virtualId], line: (v) => `${v[0]} if ${attr} is None else ${attr}(${v[1]})` });
    const addItem = items.find((it) => it.outputs[0] === addLeaf.node.id)!;
    addItem.inputs = [addItem.inputs[0], virtualId];
    if (sc) optionalCtor = em.ctorOf(sc.child);
  }
  items.sort((a, b) => a.at - b.at);
  const done = new Set(inputs);
  for (const it of items) {
    for (const i of it.inputs) if (!done.has(i)) throw new TorchEmitError(`internal: ${r.path || 'the model'}: ${i} is used before it is computed`);
    it.outputs.forEach((o) => done.add(o));
  }

  const inNames = inputs.map((_, k) => (k === 0 ? 'x' : `x${k}`));
  // The model itself (the root) of a backbone returns its features as a list, in the file's order.
  const returns = r.path === '' ? ix.returns : undefined;
  const forward = forwardLines(em, items, inputs, inNames, outputs, virtualId, returns);
  const init = initT.done();
  const baseName = classBaseName(r, ix);
  const key = JSON.stringify([baseName, init.parts, forward, inNames, opt]);
  let keyId = em.keys.indexOf(key);
  if (keyId < 0) keyId = em.keys.push(key) - 1;
  return { region: r, keyId, baseName, init, forward, inputs: inNames, optional: opt, optionalCtor };
}

/** The forward's lines. Variables: a name is reused once its value is dead (torchvision's `out = self.bn1(out)`). */
function forwardLines(em: Emitter, items: Item[], inputs: string[], inNames: string[], outputs: string[], virtualId: string, returns?: string[]): string[] {
  const lastUse = new Map<string, number>();
  items.forEach((it, k) => it.inputs.forEach((i) => lastUse.set(i, k)));
  for (const o of outputs) lastUse.set(o, Infinity);
  const varOf = new Map<string, string>();
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
      const node = em.ix.byId.get(o);
      return fresh(o === virtualId || node?.path === 'shortcut' ? ['identity', 'out', 'y'] : ['out', 'x', 'y', 'z']);
    });
    outVars.forEach((v, j) => {
      varOf.set(it.outputs[j], v);
      if ((lastUse.get(it.outputs[j]) ?? -1) > k) live.add(v);
    });
    const node = it.node;
    if (node?.op === 'add' && outVars[0] === argVars[0] && em.inplaceOk(node)) forward.push(`${outVars[0]} += ${argVars[1]}`);
    else forward.push(`${outVars.join(', ')} = ${it.line(argVars)}`);
  });
  forward.push(returns ? `return [${returns.map((o) => varOf.get(o)!).join(', ')}]` : `return ${outputs.map((o) => varOf.get(o)!).join(', ')}`);
  return forward;
}

/** torchvision's class names where the block is one of its kinds; a name from the ids otherwise. */
export function classBaseName(r: Region, ix: GraphIndex): string {
  const ops = [...r.children.values()].flatMap((c) => (c.kind === 'leaf' ? [c.node.op] : []));
  if (ops.includes('add')) {
    const main = r.nodes.filter((n) => n.op === 'conv' && n.path !== 'shortcut' && !(local(n.id, r) ?? '').includes('.'));
    const first = r.nodes[0];
    const pre = first.op === 'bn' && !r.nodes.some((n) => n.id === first.inputs[0]) && ix.byId.has(first.inputs[0]);
    const kind = main.length === 2 ? 'BasicBlock' : main.length === 3 ? 'Bottleneck' : 'Block';
    return pre ? `PreAct${kind}` : kind;
  }
  if (ops.length === r.nodes.length && ops.length <= 7 && ops.includes('mul') && ops.includes('global_avg_pool')) return 'SqueezeExcitation';
  return camel(r.name);
}
