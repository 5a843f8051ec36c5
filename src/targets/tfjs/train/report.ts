/**
 * The run folder's reports: history.csv, curves.svg (loss and accuracy per epoch) and
 * confusion.svg. Plain SVG text written by hand: two small charts do not need a plotting
 * library, and the output is stable text that tests can read.
 */
import type { EpochRecord } from '../../../training/record.js';
import type { Evaluation } from './evaluate.js';

/** What a chart and a CSV row need of an epoch: the shared EpochRecord (src/training), its timings optional. */
export type CurvePoint = Pick<EpochRecord, 'epoch' | 'loss' | 'acc' | 'valLoss' | 'valAcc'> & Partial<EpochRecord>;

const COLUMNS = ['epoch', 'loss', 'acc', 'valLoss', 'valAcc', 'valTop5', 'emaValAcc', 'lr', 'imagesPerSecond', 'seconds'] as const;

export function historyCsv(history: CurvePoint[]): string {
  const cell = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '' : String(Number(v.toPrecision(6))));
  return [COLUMNS.join(','), ...history.map((h) => COLUMNS.map((c) => cell(h[c])).join(','))].join('\n') + '\n';
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function chart(x0: number, title: string, series: { name: string; color: string; values: number[] }[], epochs: number[], yMax?: number): string {
  const W = 320;
  const H = 200;
  const pad = 36;
  const all = series.flatMap((s) => s.values).filter((v) => Number.isFinite(v));
  const hi = yMax ?? Math.max(1e-9, ...all) * 1.05;
  const lo = 0;
  const n = epochs.length;
  const px = (i: number) => x0 + pad + (n <= 1 ? (W - 2 * pad) / 2 : (i * (W - 2 * pad)) / (n - 1));
  const py = (v: number) => 20 + (H - 20 - pad) * (1 - (v - lo) / (hi - lo));
  const parts = [
    `<text x="${x0 + W / 2}" y="14" text-anchor="middle" font-size="12">${esc(title)}</text>`,
    `<line x1="${x0 + pad}" y1="${py(lo)}" x2="${x0 + W - pad}" y2="${py(lo)}" stroke="#888"/>`,
    `<line x1="${x0 + pad}" y1="20" x2="${x0 + pad}" y2="${py(lo)}" stroke="#888"/>`,
    `<text x="${x0 + pad - 4}" y="24" text-anchor="end" font-size="10">${hi.toPrecision(3)}</text>`,
    `<text x="${x0 + pad - 4}" y="${py(lo)}" text-anchor="end" font-size="10">0</text>`,
    ...epochs.map((e, i) => `<text x="${px(i)}" y="${py(lo) + 12}" text-anchor="middle" font-size="10">${e}</text>`),
    `<text x="${x0 + W / 2}" y="${H - 4}" text-anchor="middle" font-size="10">epoch</text>`,
  ];
  series.forEach((s, k) => {
    const pts = s.values.map((v, i) => (Number.isFinite(v) ? `${px(i).toFixed(1)},${py(v).toFixed(1)}` : '')).filter((p) => p !== '');
    if (pts.length === 0) return;
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(' ')}"><title>${esc(s.name)}</title></polyline>`);
    for (const p of pts) parts.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="2.5" fill="${s.color}"/>`);
    parts.push(`<text x="${x0 + W - pad}" y="${32 + 12 * k}" text-anchor="end" font-size="10" fill="${s.color}">${esc(s.name)}</text>`);
  });
  return parts.join('\n');
}

/** Loss (train, held-out) and accuracy (train, held-out, EMA) per epoch, side by side. */
export function curvesSvg(history: CurvePoint[], title = 'training'): string {
  const epochs = history.map((h) => h.epoch);
  const loss = chart(0, `${title}: loss`, [
    { name: 'train', color: '#1f77b4', values: history.map((h) => h.loss) },
    { name: 'held-out', color: '#d62728', values: history.map((h) => h.valLoss) },
  ], epochs);
  const accSeries = [
    { name: 'train', color: '#1f77b4', values: history.map((h) => h.acc) },
    { name: 'held-out', color: '#d62728', values: history.map((h) => h.valAcc) },
  ];
  if (history.some((h) => h.emaValAcc !== undefined)) accSeries.push({ name: 'held-out (EMA)', color: '#2ca02c', values: history.map((h) => h.emaValAcc ?? Number.NaN) });
  const acc = chart(320, `${title}: accuracy`, accSeries, epochs, 1);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="200" viewBox="0 0 640 200" font-family="sans-serif">\n${loss}\n${acc}\n</svg>\n`;
}

/** The confusion matrix as a heat map (rows: true class, columns: prediction), counts in the cells. */
export function confusionSvg(e: Evaluation, names?: string[]): string {
  const K = e.confusion.length;
  const cell = Math.max(12, Math.min(36, Math.floor(480 / K)));
  const left = 60;
  const top = 40;
  const size = left + K * cell + 10;
  const max = Math.max(1, ...e.confusion.flat());
  const label = (i: number) => esc(names?.[i] ?? String(i));
  const parts = [`<text x="${left}" y="14" font-size="12">confusion (rows: true, columns: predicted); top-1 ${(100 * e.top1).toFixed(2)}%</text>`];
  for (let i = 0; i < K; i++) {
    parts.push(`<text x="${left - 4}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end" font-size="10">${label(i)}</text>`);
    parts.push(`<text x="${left + i * cell + cell / 2}" y="${top - 4}" text-anchor="middle" font-size="10">${label(i)}</text>`);
    for (let j = 0; j < K; j++) {
      const v = e.confusion[i][j];
      const shade = Math.round(255 * (1 - v / max));
      parts.push(`<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="rgb(${shade},${shade},255)" stroke="#ccc"><title>true ${label(i)}, predicted ${label(j)}: ${v}</title></rect>`);
      if (cell >= 20 && v > 0) parts.push(`<text x="${left + j * cell + cell / 2}" y="${top + i * cell + cell / 2 + 4}" text-anchor="middle" font-size="9" fill="${v / max > 0.5 ? '#fff' : '#000'}">${v}</text>`);
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${top + K * cell + 10}" font-family="sans-serif">\n${parts.join('\n')}\n</svg>\n`;
}
