/**
 * The overrides: one control a knob the compile worker offers (input size, each written stage's
 * blocks and channels, or each RegNet design's parameters), sent as `--set path=value` and shown
 * as such, so the same numbers come from the CLI. The text is never changed.
 */
import type { Knob, Knobs } from '../protocol.js';

export class Overrides {
  /** path -> value as typed; `input.size` stands for both sides. */
  readonly sets = new Map<string, string>();
  private signature = '';

  constructor(
    private readonly box: HTMLElement,
    private readonly shown: HTMLElement,
    /** A value changed: compile again. */
    private readonly changed: () => void,
  ) {
    this.showSets();
  }

  /** The `--set` overrides, as the CLI takes them. */
  realSets(): string[] {
    return [...this.sets].flatMap(([k, v]) => (k === 'input.size' ? [`input.height=${v}`, `input.width=${v}`] : [`${k}=${v}`]));
  }

  /** Forgets every override; the controls are made afresh at the next compile. */
  clear(): void {
    this.sets.clear();
    this.signature = '';
    this.showSets();
  }

  show(k?: Knobs): void {
    // Rebuilt only when the set of knobs changes, so a slider being dragged keeps its focus.
    const sig = JSON.stringify([k?.knobs.map((x) => x.path), k?.note]);
    if (sig === this.signature) {
      for (const knob of k?.knobs ?? []) {
        const input = this.box.querySelector<HTMLInputElement>(`input[data-path="${CSS.escape(knob.path)}"]`);
        if (input && document.activeElement !== input) {
          input.value = String(knob.value);
          (input.nextElementSibling as HTMLElement).textContent = String(knob.value);
        }
      }
      return;
    }
    this.signature = sig;
    if (!k) return this.box.replaceChildren();
    const items: HTMLElement[] = k.knobs.map((knob) => this.control(knob));
    if (k.note) {
      const note = document.createElement('p');
      note.textContent = k.note;
      items.push(note);
    }
    this.box.replaceChildren(...items);
  }

  private control(k: Knob): HTMLElement {
    const row = document.createElement('label');
    row.className = 'knob';
    const name = document.createElement('span');
    name.textContent = k.label;
    const input = document.createElement('input');
    input.type = k.kind;
    input.min = String(k.min);
    input.max = String(k.max);
    input.step = String(k.step);
    input.value = String(k.value);
    input.dataset.path = k.path;
    const out = document.createElement('output');
    out.textContent = String(k.value);
    input.addEventListener('input', () => {
      out.textContent = input.value;
      this.sets.set(k.path, input.value);
      this.showSets();
      this.changed();
    });
    row.append(name, input, out);
    return row;
  }

  private showSets(): void {
    this.shown.textContent = this.sets.size ? this.realSets().map((s) => `--set ${s}`).join(' ') : '(none)';
  }
}
