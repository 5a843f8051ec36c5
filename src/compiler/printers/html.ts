import type { CompiledGraph } from '../types.js';
import { formatShape, macsLabel, paramsLabel } from './describe.js';
import { outputLabel } from './features.js';
import { escapeXml as x } from './escape.js';
import { sha256Base64 } from './sha256.js';
import { formatExplain } from './explain.js';
import { layoutGraph, pictureCollapse, stageMembers, type LayoutOptions } from './layout.js';
import { renderSvg } from './svg.js';
import { formatTable } from './table.js';

export interface HtmlOptions extends LayoutOptions {
  /** The architecture's `description` (free text from the YAML; escaped like everything else). */
  description?: string;
}

/**
 * The page's only script: shows the hovered (or focused) node's details in the side panel. It
 * reads the text of the node's SVG <title> and writes it with textContent, so nothing becomes
 * markup. The Content-Security-Policy allows this script, by hash, and no other.
 */
const SCRIPT = `(() => {
  const panel = document.getElementById('details');
  const svg = document.querySelector('svg.skipgraph');
  if (!panel || !svg) return;
  let current = null;
  const show = (e) => {
    const node = e.target instanceof Element ? e.target.closest('g.node') : null;
    if (!node || node === current) return;
    if (current) current.classList.remove('hover');
    current = node;
    node.classList.add('hover');
    const title = node.querySelector('title');
    panel.textContent = title ? title.textContent : '';
  };
  svg.addEventListener('mouseover', show);
  svg.addEventListener('focusin', show);
})();`;

const STYLE = `
  :root { color-scheme: light; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #263238; background: #eceff1; }
  header { padding: 14px 20px; background: #263238; color: #fff; }
  header h1 { margin: 0; font-size: 20px; }
  header p { margin: 4px 0 0; color: #cfd8dc; }
  main { display: grid; grid-template-columns: minmax(0, 1fr) fit-content(62vw); gap: 16px; padding: 16px 20px; align-items: start; }
  .graph { background: #fff; border: 1px solid #cfd8dc; border-radius: 6px; overflow: auto; max-height: calc(100vh - 32px); }
  .graph svg { display: block; }
  /* The side panels take the width their longest line needs (up to 62% of the window), the graph
     the rest, scrolling in its own box: the Stages and Shortcut panels are read whole, not clipped. */
  aside { position: sticky; top: 16px; display: flex; flex-direction: column; gap: 12px; min-width: 320px; }
  .panel { background: #fff; border: 1px solid #cfd8dc; border-radius: 6px; padding: 10px 12px; }
  .panel h2 { margin: 0 0 6px; font-size: 14px; }
  pre { margin: 0; font: 12px/1.4 'DejaVu Sans Mono', Menlo, Consolas, monospace; white-space: pre; overflow: auto; }
  #details { white-space: pre-wrap; min-height: 8em; }
  /* A line longer than the panel wraps under itself instead of hiding behind a scrollbar. */
  pre.stages, pre.explain { white-space: pre-wrap; overflow-wrap: anywhere; padding-left: 2ch; text-indent: -2ch; }
  .tables { padding: 0 20px 20px; display: flex; flex-direction: column; gap: 12px; }
  g.node { cursor: pointer; outline: none; }
  g.node.hover > rect:first-of-type, g.node:focus > rect:first-of-type { stroke-width: 3; stroke: #263238; }
`;

/** One line a stage: blocks, output shape, what the shortcut rule inserted (an overview of the long graph). */
function stagesText(g: CompiledGraph): string {
  const members = stageMembers(g.nodes);
  const rows = g.stages.map((s) => {
    const inserted = (members.get(s.name) ?? []).filter((n) => n.inserted);
    const why = [...new Set(inserted.map((n) => `${n.inserted!.rule}: ${n.inserted!.reason}`))].join('; ');
    return [s.name, String(s.blocks), formatShape(s.shape), inserted.length ? `+${inserted.length} (${why})` : '-'];
  });
  const head = ['stage', 'blocks', 'output', 'inserted'];
  const widths = head.map((h, i) => rows.reduce((w, r) => Math.max(w, r[i].length), h.length));
  return [head, ...rows].map((r) => r.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

/**
 * One self-contained HTML page: the SVG graph, a panel with the hovered node's details, the
 * summary table and the shortcut explanation. No external resources; every YAML string escaped.
 */
export function formatHtml(g: CompiledGraph, opts: HtmlOptions = {}): string {
  const layout = layoutGraph(g, opts);
  const svg = renderSvg(g, layout);
  const inserted = g.nodes.filter((n) => n.inserted).length;
  const hash = sha256Base64(SCRIPT);
  const csp = `default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-${hash}'`;
  const t = g.totals;
  const facts = `input ${g.input.height}x${g.input.width}x${g.input.channels}, ${outputLabel(g)}; ${paramsLabel(t)}, ${macsLabel(t.macs)}; ${g.nodes.length} nodes, ${inserted} inserted by shortcut rules${pictureCollapse(g, opts.collapse) === 'stages' ? '; stages collapsed' : ''}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${x(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="skipgraph">
<title>${x(g.name)} - skipgraph</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${x(g.name)}</h1>
${opts.description ? `<p class="description">${x(opts.description)}</p>\n` : ''}<p class="facts">${x(facts)}</p>
</header>
<main>
<div class="graph">
${svg}
</div>
<aside>
<section class="panel"><h2>Node details</h2><pre id="details">Hover over (or tab to) a box to see its inputs, parameters, MACs and where it comes from in the YAML.</pre></section>
<section class="panel"><h2>Stages</h2><pre class="stages">${x(stagesText(g))}</pre></section>
<section class="panel"><h2>Shortcut nodes</h2><pre class="explain">${x(formatExplain(g))}</pre></section>
</aside>
</main>
<section class="tables">
<section class="panel"><h2>Summary</h2><pre class="summary">${x(formatTable(g))}</pre></section>
</section>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
