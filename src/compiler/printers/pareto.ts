import { escapeXml } from './escape.js';
import { formatCount, paretoFront, type SweepRow } from '../sweep.js';

export interface ParetoOptions {
  /** The y axis: trainable params (default), or a measured time per forward in ms. */
  y?: 'params' | 'time';
  /** Measured forward times (ms) by row index, for y: 'time'. */
  times?: readonly (number | undefined)[];
  title?: string;
}

const W = 720;
const H = 480;
const M = { left: 72, right: 24, top: 52, bottom: 56 };

/** Five round ticks over [lo, hi]. */
function ticks(lo: number, hi: number): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const step0 = span / 5;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0)!;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

/**
 * A sweep as a scatter plot: MACs against params (or measured time), one point per kept variant,
 * the Pareto front marked and joined: the variants with the most params for their MACs (no other
 * has fewer MACs and more params), or with --measure the most MACs for their forward time. Each point's
 * tooltip (<title>) holds its settings and figures. Rejected and failed variants are not drawn;
 * the caption counts them.
 */
export function formatPareto(rows: readonly SweepRow[], opts: ParetoOptions = {}): string {
  const yKind = opts.y ?? 'params';
  const kept = rows.map((r, i) => ({ r, i })).filter(({ r, i }) => r.status === 'ok' && (yKind === 'params' || opts.times?.[i] !== undefined));
  const pts = kept.map(({ r, i }) => ({ x: r.macs!, y: yKind === 'params' ? r.params! : opts.times![i]!, row: r }));
  // The efficient variants: the most params for their MACs, or the most MACs for their time.
  const front = paretoFront(pts, yKind === 'params' ? { x: 'min', y: 'max' } : { x: 'max', y: 'min' });
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  const [x0, x1] = pts.length ? [xs.reduce((a, b) => Math.min(a, b)), xs.reduce((a, b) => Math.max(a, b))] : [0, 1];
  const [y0, y1] = pts.length ? [ys.reduce((a, b) => Math.min(a, b)), ys.reduce((a, b) => Math.max(a, b))] : [0, 1];
  const pad = (lo: number, hi: number): [number, number] => (hi > lo ? [lo - (hi - lo) * 0.05, hi + (hi - lo) * 0.05] : [lo * 0.9, hi * 1.1 || 1]);
  const [ax0, ax1] = pad(x0, x1);
  const [ay0, ay1] = pad(y0, y1);
  const sx = (x: number) => M.left + ((x - ax0) / (ax1 - ax0)) * (W - M.left - M.right);
  const sy = (y: number) => H - M.bottom - ((y - ay0) / (ay1 - ay0)) * (H - M.top - M.bottom);
  const yLabel = yKind === 'params' ? 'trainable params' : 'forward time (ms)';
  const fmtY = (v: number) => (yKind === 'params' ? formatCount(v) : v.toFixed(2));
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push('<style>.pt{fill:#8aa;fill-opacity:.6}.front{fill:#d33;fill-opacity:1}.pt:hover{stroke:#000}</style>');
  const rejected = rows.filter((r) => r.status === 'rejected').length;
  const failed = rows.filter((r) => r.status === 'error').length;
  out.push(`<text x="${M.left}" y="18" font-size="14">${escapeXml(opts.title ?? 'sweep')}: ${pts.length} variants drawn; ${rejected} rejected by limits, ${failed} failed</text>`);
  out.push(`<text x="${M.left}" y="36" fill="#d33">Pareto front (${front.size}): ${yKind === 'params' ? 'the most params for their MACs' : 'the most MACs for their time'}</text>`);
  // Axes and ticks.
  out.push(`<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="#000"/>`);
  out.push(`<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="#000"/>`);
  for (const t of ticks(ax0, ax1)) {
    if (t < ax0 || t > ax1) continue;
    out.push(`<line x1="${sx(t).toFixed(1)}" y1="${H - M.bottom}" x2="${sx(t).toFixed(1)}" y2="${H - M.bottom + 4}" stroke="#000"/><text x="${sx(t).toFixed(1)}" y="${H - M.bottom + 18}" text-anchor="middle">${formatCount(t)}</text>`);
  }
  for (const t of ticks(ay0, ay1)) {
    if (t < ay0 || t > ay1) continue;
    out.push(`<line x1="${M.left - 4}" y1="${sy(t).toFixed(1)}" x2="${M.left}" y2="${sy(t).toFixed(1)}" stroke="#000"/><text x="${M.left - 8}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${fmtY(t)}</text>`);
  }
  out.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 12}" text-anchor="middle">MACs (multiply-accumulates per image)</text>`);
  out.push(`<text transform="translate(16 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${yLabel}</text>`);
  // The front, joined in MACs order.
  const frontPts = pts.filter((_, k) => front.has(k)).sort((a, b) => a.x - b.x);
  if (frontPts.length > 1) out.push(`<polyline class="front-line" fill="none" stroke="#d33" points="${frontPts.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}"/>`);
  pts.forEach((p, k) => {
    const settings = Object.entries(p.row.settings).map(([a, v]) => `${a}=${v}`).join(', ');
    const tip = `${settings || '(base)'}\nMACs ${formatCount(p.x)}, ${yLabel} ${fmtY(p.y)}`;
    out.push(`<circle class="pt${front.has(k) ? ' front' : ''}" cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="${front.has(k) ? 5 : 4}" data-settings="${escapeXml(settings)}"><title>${escapeXml(tip)}</title></circle>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
