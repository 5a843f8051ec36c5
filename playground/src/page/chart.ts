/** The training chart: loss and batch accuracy (running means of 10 steps) and held-out accuracy, by step. */

export interface Curves {
  points: { step: number; loss: number; accuracy: number }[];
  evals: { step: number; accuracy: number }[];
}

export function drawChart(chart: HTMLCanvasElement, { points, evals }: Curves): void {
  const ctx = chart.getContext('2d')!;
  const w = chart.width;
  const h = chart.height;
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = '#cfd8dc';
  ctx.strokeRect(0.5, 0.5, w - 1, h - 1);
  if (!points.length) return;
  const maxStep = Math.max(points[points.length - 1].step, 10);
  const maxLoss = Math.max(...points.map((p) => p.loss), 0.1);
  const X = (s: number) => 30 + ((w - 40) * s) / maxStep;
  const Y = (v: number, max: number) => h - 20 - ((h - 30) * v) / max;
  const line = (vals: { step: number; v: number }[], max: number, color: string) => {
    ctx.strokeStyle = color;
    ctx.beginPath();
    vals.forEach((p, i) => (i ? ctx.lineTo(X(p.step), Y(p.v, max)) : ctx.moveTo(X(p.step), Y(p.v, max))));
    ctx.stroke();
  };
  // A running mean keeps the batch noise readable.
  const smooth = (k: 'loss' | 'accuracy') => points.map((p, i) => ({ step: p.step, v: points.slice(Math.max(0, i - 9), i + 1).reduce((a, q) => a + q[k], 0) / Math.min(10, i + 1) }));
  line(smooth('loss'), maxLoss, '#1e88e5');
  line(smooth('accuracy'), 1, '#43a047');
  if (evals.length) line(evals.map((e) => ({ step: e.step, v: e.accuracy })), 1, '#d81b60');
  ctx.font = '11px monospace';
  const label = (color: string, text: string, x: number, y: number) => {
    ctx.fillStyle = color;
    ctx.fillText(text, x, y);
  };
  label('#37474f', `loss (max ${maxLoss.toFixed(2)})`, 34, 14);
  label('#43a047', 'batch acc', 180, 14);
  label('#d81b60', 'held-out acc', 260, 14);
  label('#37474f', `step ${points[points.length - 1].step}`, w - 70, h - 6);
}
