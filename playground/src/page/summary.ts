/** The totals with their change since the previous successful compile, the title and the stages. */
import type { Summary } from '../protocol.js';
import { $ } from './dom.js';

export const grouped = (n: number) => n.toLocaleString('en-US');

/** A difference in a few characters: 591,872 -> 591.9K. */
export function short(n: number): string {
  const a = Math.abs(n);
  return a >= 1e9 ? `${(n / 1e9).toFixed(2)}G` : a >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : a >= 1e3 ? `${(n / 1e3).toFixed(1)}K` : String(n);
}
const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;

const ROWS: { id: string; label: string; key: keyof Summary; format: (n: number) => string; diff: (n: number) => string }[] = [
  { id: 'params', label: 'Params', key: 'params', format: grouped, diff: short },
  { id: 'trainable', label: 'Trainable', key: 'trainableParams', format: grouped, diff: short },
  { id: 'macs', label: 'MACs', key: 'macs', format: grouped, diff: short },
  { id: 'activations', label: 'Activations / sample', key: 'activationBytes', format: mib, diff: mib },
  { id: 'nodes', label: 'Nodes', key: 'nodes', format: grouped, diff: short },
  { id: 'inserted', label: 'Inserted projections', key: 'inserted', format: grouped, diff: short },
];

export function showSummary(s: Summary, prev?: Summary): void {
  $('totals').replaceChildren(
    ...ROWS.map((row) => {
      const value = s[row.key] as number;
      const d = value - (prev ? (prev[row.key] as number) : value);
      const tr = document.createElement('tr');
      const cells: [string, string][] = [['label', row.label], ['value', row.format(value)], [`diff ${d > 0 ? 'up' : 'down'}`, d === 0 ? '' : `${d > 0 ? '+' : '-'}${row.diff(Math.abs(d))}`]];
      for (const [cls, text] of cells) {
        const td = document.createElement('td');
        td.className = cls;
        td.textContent = text;
        tr.append(td);
      }
      tr.id = `total-${row.id}`;
      tr.dataset.value = String(value);
      return tr;
    }),
  );
  $('title').textContent = `${s.name}: ${s.returns}`;
  $('stages').replaceChildren(
    ...s.stages.map((st) => {
      const li = document.createElement('li');
      li.textContent = `${st.name}: ${st.blocks} block${st.blocks === 1 ? '' : 's'} -> ${st.shape.join('x')}`;
      return li;
    }),
  );
}

/** Nothing compiled (an empty text): no totals, no title, no stages, no table. */
export function clearSummary(): void {
  for (const id of ['totals', 'stages', 'title', 'table']) $(id).replaceChildren();
}
