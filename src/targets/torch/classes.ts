/**
 * Classes from instances: instances with one key are one class, whose constant slots stay numbers
 * and whose varying slots become constructor parameters. Names come last, once the rest of the
 * file is known: a class never takes a name the file uses otherwise.
 */
import type { ClassInstance } from './instance.js';
import { attrSet, ident } from './quote.js';
import type { Emitter } from './regions.js';
import { render, type RenderCall } from './template.js';

export interface PyClass {
  keyId: number;
  /** The name it would like (BasicBlock, Stem). */
  base: string;
  instances: ClassInstance[];
  /** Per slot of the init template: parameter index or -1 (a constant). */
  slotParam: number[];
  params: string[];
}

/** Class names by key. */
export type ClassNames = (keyId: number) => string;

/** The classes of every instance but `exclude` (the model's own), children first: the file reads bottom-up, as torchvision's. */
export function groupClasses(em: Emitter, exclude: ClassInstance): Map<number, PyClass> {
  const byKey = new Map<number, ClassInstance[]>();
  for (const inst of em.instances) if (inst !== exclude) byKey.set(inst.keyId, [...(byKey.get(inst.keyId) ?? []), inst]);
  const classes = new Map<number, PyClass>();
  for (const [keyId, group] of [...byKey.entries()].sort((a, b) => a[0] - b[0])) {
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
    const optional = group[0].optional?.attr ?? 'downsample';
    classes.set(keyId, { keyId, base: group[0].baseName, instances: group, slotParam, params: niceNames(raw, optional) });
  }
  return classes;
}

/** conv1_in -> in_channels (the first), a lone *_stride -> stride, ...; identifiers, unique, never `self` or the optional module's. */
function niceNames(raw: string[], optional: string): string[] {
  const out: string[] = [];
  const count = (suffix: string) => raw.filter((r) => r.endsWith(`_${suffix}`) || r === suffix).length;
  raw.forEach((r, k) => {
    let name = ident(r);
    if (k === 0 && /(^|_)in$/.test(r)) name = 'in_channels';
    else for (const s of ['stride', 'dilation', 'groups']) if ((r.endsWith(`_${s}`) || r === s) && count(s) === 1) name = s;
    while (out.includes(name) || name === 'self' || name === 'downsample' || name === optional) name = `${name}_`;
    out.push(name);
  });
  return out;
}

/**
 * Names for the classes and the model: each class its base (`Module` added while the base is one
 * of `reserved`), numbered from the second class of a base on (Bottleneck, Bottleneck2); the model
 * its own, `Net` added while taken.
 */
export function nameClasses(classes: Map<number, PyClass>, model: string, reserved: ReadonlySet<string>): { names: Map<number, string>; model: string } {
  const taken = new Set<string>();
  const free = (n: string) => !taken.has(n) && !reserved.has(n);
  const counts = new Map<string, number>();
  const names = new Map<number, string>();
  for (const cls of classes.values()) {
    let base = cls.base;
    while (reserved.has(base)) base += 'Module';
    let name: string;
    do {
      const n = (counts.get(base) ?? 0) + 1;
      counts.set(base, n);
      name = n === 1 ? base : `${base}${n}`;
    } while (!free(name));
    taken.add(name);
    names.set(cls.keyId, name);
  }
  let modelName = model;
  while (!free(modelName)) modelName += 'Net';
  return { names, model: modelName };
}

/** How a child class's call renders: its name, the arguments its parameters take, its optional module. */
export function callRenderer(classes: Map<number, PyClass>, nameOf: ClassNames): RenderCall {
  return (call, args, optional) => {
    const cls = classes.get(call.keyId)!;
    const values = cls.params.map((_, p) => args[cls.slotParam.indexOf(p)]);
    const opt = cls.instances[0].optional;
    if (opt && optional !== null) values.push(`${opt.attr}=${optional}`);
    return `${nameOf(cls.keyId)}(${values.join(', ')})`;
  };
}

export function classText(cls: PyClass, classes: Map<number, PyClass>, nameOf: ClassNames): string {
  const inst = cls.instances[0];
  const isInt = (p: number) => cls.instances.every((g) => /^\d+$/.test(g.init.slots[cls.slotParam.indexOf(p)].value));
  const sig = ['self', ...cls.params.map((p, k) => (isInt(k) ? `${p}: int` : p))];
  if (inst.optional) sig.push(`${inst.optional.attr}: Optional[nn.Module] = None`);
  const slotText = (k: number) => (cls.slotParam[k] >= 0 ? cls.params[cls.slotParam[k]] : inst.init.slots[k].value);
  const body = render(inst.init.parts, slotText, callRenderer(classes, nameOf));
  const lines = [`class ${nameOf(cls.keyId)}(nn.Module):`, `    def __init__(${sig.join(', ')}) -> None:`, '        super().__init__()'];
  lines.push(...body.split('\n').filter((l) => l.trim() !== ''));
  if (inst.optional) lines.push(`        ${attrSet(inst.optional.attr).join(inst.optional.attr)}`);
  lines.push('', `    def forward(${['self', ...inst.inputs.map((i) => `${i}: torch.Tensor`)].join(', ')}) -> torch.Tensor:`);
  for (const f of inst.forward) lines.push(`        ${f}`);
  return lines.join('\n');
}
