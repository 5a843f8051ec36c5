/**
 * Constructor text with numbered slots, so that blocks that differ only in numbers share a class.
 *
 * A template is a list of parts: literal text, a slot (one number of the block, which the class
 * takes as a parameter where its instances differ), or a call of a child class whose name is only
 * known once every class is (its arguments are slots of the enclosing template, so that a parent
 * class can pass its own parameters down). Rendering fills the slots and names the classes.
 */

/** One number of a constructor: its suggested parameter name (conv1_out, stride) and its value. */
export interface Slot {
  name: string;
  value: string;
}

/** A child class instance: `Name(args[, attr=optional])`. */
export interface CallPart {
  kind: 'call';
  /** The class key (the instance's identity: see classes.ts). */
  keyId: number;
  /** The enclosing template's slot for each slot of the child's own template. */
  args: number[];
  /** The child's optional module: its constructor, null for none, undefined where the class has no optional module. */
  optional: Part[] | null | undefined;
}

export type Part = { kind: 'text'; text: string } | { kind: 'slot'; index: number } | CallPart;

export interface Template {
  parts: Part[];
  slots: Slot[];
}

/** Slot indices shifted by `by` (a template appended after `by` slots). */
function shift(parts: readonly Part[], by: number): Part[] {
  return parts.map((p): Part => {
    if (p.kind === 'slot') return { kind: 'slot', index: p.index + by };
    if (p.kind === 'call') return { ...p, args: p.args.map((a) => a + by), optional: p.optional ? shift(p.optional, by) : p.optional };
    return p;
  });
}

/** Every line of the template's text after the first indented by `by` (a multi-line constructor as an argument). */
export function hangTemplate(t: Template, by: string): Template {
  const hangParts = (parts: readonly Part[]): Part[] =>
    parts.map((p): Part => {
      if (p.kind === 'text') return { kind: 'text', text: p.text.split('\n').join(`\n${by}`) };
      if (p.kind === 'call' && p.optional) return { ...p, optional: hangParts(p.optional) };
      return p;
    });
  return { parts: hangParts(t.parts), slots: t.slots };
}

export class TemplateBuilder {
  private readonly parts: Part[] = [];
  private readonly slots: Slot[] = [];

  lit(text: string): this {
    this.parts.push({ kind: 'text', text });
    return this;
  }

  slot(name: string, value: string): this {
    this.parts.push({ kind: 'slot', index: this.slots.length });
    this.slots.push({ name, value });
    return this;
  }

  /** Appends another template, its slot names prefixed (`conv1` + `out`: `conv1_out`). */
  sub(t: Template, prefix: string): this {
    this.parts.push(...shift(t.parts, this.slots.length));
    for (const s of t.slots) this.slots.push({ name: prefix ? `${prefix}_${s.name}` : s.name, value: s.value });
    return this;
  }

  /**
   * Appends a call of a child class: each of the child's slots becomes one of ours (same name and
   * value); its optional module, when it has one, is appended with the prefix `optionalAttr`.
   */
  call(keyId: number, childSlots: readonly Slot[], optional: { attr: string; ctor: Template | null } | null): this {
    const args = childSlots.map((s) => {
      this.slots.push({ name: s.name, value: s.value });
      return this.slots.length - 1;
    });
    let opt: Part[] | null | undefined;
    if (optional && optional.ctor) {
      opt = shift(optional.ctor.parts, this.slots.length);
      for (const s of optional.ctor.slots) this.slots.push({ name: `${optional.attr}_${s.name}`, value: s.value });
    } else opt = optional ? null : undefined;
    this.parts.push({ kind: 'call', keyId, args, optional: opt });
    return this;
  }

  done(): Template {
    return { parts: [...this.parts], slots: [...this.slots] };
  }
}

/** How a call renders, given its arguments' text and its optional module's (null for none). */
export type RenderCall = (call: CallPart, args: string[], optional: string | null) => string;

/** The template as text: each slot as `slotText` gives it, each call as `renderCall` does. */
export function render(parts: readonly Part[], slotText: (index: number) => string, renderCall: RenderCall): string {
  let out = '';
  for (const p of parts) {
    if (p.kind === 'text') out += p.text;
    else if (p.kind === 'slot') out += slotText(p.index);
    else out += renderCall(p, p.args.map(slotText), p.optional ? render(p.optional, slotText, renderCall) : null);
  }
  return out;
}
