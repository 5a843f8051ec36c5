/**
 * The sweep case: 1,000 variants of ResNet-50 (a 10 x 10 x 10 grid over stage depths and
 * widths) compiled in process by the same function `skipgraph sweep` runs, after a warm-up of
 * 50. Prints one JSON line: seconds, variants, kept, per-variant ms.
 *   node --import tsx bench/sweep_child.ts
 */
import { sweep } from '../src/compiler/files.js';
import { arch, emit } from './common.js';

const file = arch('resnet50');
const axes = [
  { path: 'stages.0.blocks', values: ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'] },
  { path: 'stages.2.blocks', values: ['2', '3', '4', '5', '6', '7', '8', '9', '10', '11'] },
  { path: 'stages.3.channels', values: ['256', '288', '320', '352', '384', '416', '448', '480', '512', '544'] },
];
const constraints = [{ figure: 'macs' as const, max: 4.5e9 }];
const warm = sweep(file, { axes: axes.map((a, i) => (i === 0 ? { ...a, values: a.values.slice(0, 1) } : { ...a, values: a.values.slice(0, 7) })), constraints });
if ('error' in warm) throw new Error(warm.error);
const t0 = performance.now();
const rows = sweep(file, { axes, constraints });
const seconds = (performance.now() - t0) / 1000;
if ('error' in rows) throw new Error(rows.error);
emit({ seconds, variants: rows.length, kept: rows.filter((r) => r.status === 'ok').length, perVariantMs: (seconds * 1000) / rows.length });
