import { isActivation } from '../ops.js';
import type { CompiledGraph } from '../types.js';
import { grouped, macsLabel, paramsLabel } from './describe.js';
import { escapeXml as x } from './escape.js';
import { FONT, layoutGraph, textWidth, type Box, type GraphLayout, type LayoutOptions, type Wire } from './layout.js';

export interface SvgOptions extends LayoutOptions {}

/** Fill and stroke by op family; inserted shortcut nodes override both. */
const PALETTE: Record<string, [string, string]> = {
  input: ['#ede7f6', '#7e57c2'],
  conv: ['#e3f2fd', '#1e88e5'],
  bn: ['#f5f5f5', '#9e9e9e'],
  act: ['#e8f5e9', '#43a047'],
  pool: ['#fff3e0', '#fb8c00'],
  dense: ['#fce4ec', '#d81b60'],
  join: ['#ffffff', '#37474f'],
  stage: ['#e3f2fd', '#1e88e5'],
};
const INSERTED: [string, string] = ['#ffe08a', '#b8860b'];
const SKIP = '#c0392b';
const MAIN = '#546e7a';

const family = (op: string) =>
  op === 'input' || op === 'conv' || op === 'bn' || op === 'dense' || op === 'stage'
    ? op
    : isActivation(op)
      ? 'act'
      : op === 'add' || op === 'mul'
        ? 'join'
        : 'pool';

const r1 = (v: number) => Math.round(v * 10) / 10;

/** A smooth path through dagre's points: straight ends, quadratic bends at the inner points. */
function pathOf(points: Wire['points']): string {
  const p = points.map((q) => ({ x: r1(q.x), y: r1(q.y) }));
  if (p.length < 3) return `M${p[0].x},${p[0].y}` + p.slice(1).map((q) => ` L${q.x},${q.y}`).join('');
  let d = `M${p[0].x},${p[0].y}`;
  for (let i = 1; i < p.length - 1; i++) {
    const mid = { x: r1((p[i].x + p[i + 1].x) / 2), y: r1((p[i].y + p[i + 1].y) / 2) };
    d += i === p.length - 2 ? ` Q${p[i].x},${p[i].y} ${p[i + 1].x},${p[i + 1].y}` : ` Q${p[i].x},${p[i].y} ${mid.x},${mid.y}`;
  }
  return d;
}

function boxSvg(b: Box, dy: number): string {
  const [fill, stroke] = b.inserted && b.kind === 'node' ? INSERTED : PALETTE[family(b.op)];
  const left = r1(b.x - b.width / 2);
  const top = r1(b.y - b.height / 2 + dy);
  const cls = ['node', `op-${b.op}`, b.kind === 'stage' ? 'stage' : '', b.inserted ? 'inserted' : '', b.path === 'shortcut' ? 'shortcut' : ''].filter(Boolean).join(' ');
  const rx = b.op === 'add' || b.op === 'mul' ? r1(b.height / 2) : 4;
  const dash = b.inserted && b.kind === 'node' ? ' stroke-dasharray="5 3"' : '';
  const sw = b.inserted ? 2 : 1.2;
  const text = b.lines
    .map((l, i) => {
      const y = r1(top + 6 + FONT.lineHeight * (i + 0.75));
      const weight = i === 0 ? ' font-weight="bold"' : '';
      const color = b.kind === 'stage' && l.startsWith('+ ') ? ' fill="#8a5a00"' : i === 0 ? '' : ' fill="#37474f"';
      return `<text x="${r1(b.x)}" y="${y}"${weight}${color}>${x(l)}</text>`;
    })
    .join('');
  // A stage that holds inserted nodes gets a yellow band on its left, so it stands out collapsed.
  const band = b.kind === 'stage' && b.inserted ? `<rect x="${left}" y="${top}" width="6" height="${r1(b.height)}" fill="${INSERTED[0]}" stroke="${INSERTED[1]}"/>` : '';
  return (
    `<g class="${cls}" data-id="${x(b.id)}" data-op="${x(b.op)}" data-inserted="${b.inserted}" tabindex="0">` +
    `<title>${x(b.details)}</title>` +
    `<rect x="${left}" y="${top}" width="${r1(b.width)}" height="${r1(b.height)}" rx="${rx}" fill="${fill}" stroke="${stroke}" stroke-width="${sw}"${dash}/>` +
    band +
    text +
    `</g>`
  );
}

function wireSvg(w: Wire, dy: number): string {
  const pts = w.points.map((p) => ({ x: p.x, y: p.y + dy }));
  const style = w.skip ? `stroke="${SKIP}" stroke-width="1.6" stroke-dasharray="6 4" marker-end="url(#sg-arrow-skip)"` : `stroke="${MAIN}" stroke-width="1.2" marker-end="url(#sg-arrow)"`;
  return (
    `<g class="edge${w.skip ? ' skip' : ''}" data-from="${x(w.from)}" data-to="${x(w.to)}">` +
    `<path d="${pathOf(pts)}" fill="none" ${style}/>` +
    `<text x="${r1(w.labelX)}" y="${r1(w.labelY + dy + FONT.edgeSize / 2 - 1)}" font-size="${FONT.edgeSize}" text-anchor="start" fill="${w.skip ? SKIP : '#607d8b'}" stroke="#ffffff" stroke-width="3" paint-order="stroke">${x(w.label)}</text>` +
    `</g>`
  );
}

const LEGEND_H = 58;

function legendSvg(g: CompiledGraph, l: GraphLayout): { svg: string; width: number } {
  const inserted = g.nodes.filter((n) => n.inserted).length;
  const title = `${g.name}: ${paramsLabel(g.totals)}, ${macsLabel(g.totals.macs)}, ${g.nodes.length} nodes (${inserted} inserted)`;
  const y = 40;
  const items: string[] = [];
  let cx = 12;
  const item = (mark: string, label: string) => {
    items.push(mark.replace(/\{x\}/g, String(cx)).replace(/\{x2\}/g, String(cx + 28)) + `<text x="${cx + 34}" y="${y + 4}" fill="#37474f">${x(label)}</text>`);
    cx += 34 + textWidth(label) + 22;
  };
  // Only what the picture shows: collapsed stages mark inserted nodes with a band, and hide skips.
  const stages = l.boxes.some((b) => b.kind === 'stage');
  if (l.boxes.some((b) => b.inserted && b.kind === 'node')) {
    item(`<rect x="{x}" y="${y - 8}" width="28" height="16" rx="3" fill="${INSERTED[0]}" stroke="${INSERTED[1]}" stroke-width="2" stroke-dasharray="5 3"/>`, 'inserted by a shortcut rule');
  }
  if (l.boxes.some((b) => b.inserted && b.kind === 'stage')) {
    item(`<rect x="{x}" y="${y - 8}" width="28" height="16" rx="3" fill="${PALETTE.stage[0]}" stroke="${PALETTE.stage[1]}"/><rect x="{x}" y="${y - 8}" width="6" height="16" fill="${INSERTED[0]}" stroke="${INSERTED[1]}"/>`, 'stage with inserted nodes');
  }
  if (l.wires.some((w) => w.skip)) item(`<line x1="{x}" y1="${y}" x2="{x2}" y2="${y}" stroke="${SKIP}" stroke-width="1.6" stroke-dasharray="6 4"/>`, 'skip path');
  item(`<line x1="{x}" y1="${y}" x2="{x2}" y2="${y}" stroke="${MAIN}" stroke-width="1.2"/>`, stages ? 'tensor, with its shape' : 'main path');
  const svg = `<g class="legend" text-anchor="start"><text x="12" y="18" font-weight="bold" font-size="13">${x(title)}</text>${items.join('')}</g>`;
  return { svg, width: Math.max(cx, textWidth(title, 13) + 24, l.width) };
}

/**
 * A standalone SVG picture of the graph, laid out by dagre: boxes with name, op and output shape;
 * inserted shortcut nodes yellow and dashed (class `inserted`); skip edges red and dashed (class
 * `skip`); each edge labelled with its tensor shape; each box's `<title>` holds its details (the
 * browser shows them on hover). Every YAML string is XML-escaped.
 */
export function formatSvg(g: CompiledGraph, opts: SvgOptions = {}): string {
  const l = layoutGraph(g, opts);
  return renderSvg(g, l);
}

export function renderSvg(g: CompiledGraph, l: GraphLayout): string {
  const legend = legendSvg(g, l);
  const width = Math.ceil(legend.width);
  const height = Math.ceil(l.height + LEGEND_H);
  const dy = LEGEND_H;
  const clusters = l.clusters
    .map(
      (c) =>
        `<g class="cluster" data-stage="${x(c.id)}"><rect x="${r1(c.x)}" y="${r1(c.y + dy)}" width="${r1(c.width)}" height="${r1(c.height)}" rx="8" fill="#fafafa" stroke="#cfd8dc" stroke-dasharray="2 2"/>` +
        `<text x="${r1(c.x + 8)}" y="${r1(c.y + dy + 14)}" text-anchor="start" font-weight="bold" fill="#90a4ae">${x(c.label)}</text></g>`,
    )
    .join('\n');
  const marker = (id: string, color: string) => `<marker id="${id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${color}"/></marker>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="skipgraph" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${x(FONT.family)}" font-size="${FONT.size}" text-anchor="middle" role="img" aria-label="${x(`${g.name}: compiled graph`)}">`,
    `<title>${x(`${g.name}: ${g.nodes.length} nodes`)}</title>`,
    `<defs>${marker('sg-arrow', MAIN)}${marker('sg-arrow-skip', SKIP)}</defs>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    legend.svg,
    `<g class="clusters">`,
    clusters,
    `</g>`,
    `<g class="edges">`,
    ...l.wires.map((w) => wireSvg(w, dy)),
    `</g>`,
    `<g class="nodes">`,
    ...l.boxes.map((b) => boxSvg(b, dy)),
    `</g>`,
    `</svg>`,
  ].join('\n');
}
