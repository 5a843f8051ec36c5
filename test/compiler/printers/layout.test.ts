import { describe, expect, it } from 'vitest';
import { layoutGraph, type Box, type GraphLayout } from '../../../src/compiler/index.js';
import { shipped } from './helpers.js';

const overlap = (a: Box, b: Box) => Math.abs(a.x - b.x) * 2 < a.width + b.width && Math.abs(a.y - b.y) * 2 < a.height + b.height;

/** Is point p on the border of box b (within a pixel)? */
const onBorder = (p: { x: number; y: number }, b: Box) => {
  const dx = Math.abs(p.x - b.x) - b.width / 2;
  const dy = Math.abs(p.y - b.y) - b.height / 2;
  return (Math.abs(dx) < 1 && dy < 1) || (Math.abs(dy) < 1 && dx < 1);
};

function checkGeometry(l: GraphLayout) {
  const byId = new Map(l.boxes.map((b) => [b.id, b]));
  for (let i = 0; i < l.boxes.length; i++) {
    const b = l.boxes[i];
    expect(b.x - b.width / 2).toBeGreaterThanOrEqual(0);
    expect(b.y - b.height / 2).toBeGreaterThanOrEqual(0);
    expect(b.x + b.width / 2).toBeLessThanOrEqual(l.width);
    expect(b.y + b.height / 2).toBeLessThanOrEqual(l.height);
    for (let j = i + 1; j < l.boxes.length; j++) if (overlap(b, l.boxes[j])) throw new Error(`${b.id} overlaps ${l.boxes[j].id}`);
  }
  for (const w of l.wires) {
    expect(onBorder(w.points[0], byId.get(w.from)!), `${w.from} -> ${w.to} starts on ${w.from}`).toBe(true);
    expect(onBorder(w.points[w.points.length - 1], byId.get(w.to)!), `${w.from} -> ${w.to} ends on ${w.to}`).toBe(true);
    // Top to bottom: every edge goes down the page.
    expect(byId.get(w.to)!.y).toBeGreaterThan(byId.get(w.from)!.y);
  }
}

describe('layoutGraph (dagre)', () => {
  it('places every resnet18 node once, without overlaps, edges from border to border', () => {
    const g = shipped('resnet18');
    const l = layoutGraph(g);
    expect(l.boxes.map((b) => b.id)).toEqual(g.nodes.map((n) => n.id));
    expect(l.wires).toHaveLength(g.graph.edgeCount());
    checkGeometry(l);
    // Stage frames contain their nodes.
    expect(l.clusters.map((c) => c.id)).toEqual(['layer1', 'layer2', 'layer3', 'layer4']);
    for (const b of l.boxes.filter((x) => x.stage)) {
      const c = l.clusters.find((x) => x.id === b.stage)!;
      expect(b.x - b.width / 2).toBeGreaterThanOrEqual(c.x);
      expect(b.y + b.height / 2).toBeLessThanOrEqual(c.y + c.height);
    }
  });

  it('shows name, op and shape in each box, and wide enough for them', () => {
    const l = layoutGraph(shipped('resnet18'));
    const p = l.boxes.find((b) => b.id === 'layer2.0.downsample.0')!;
    expect(p.lines).toEqual(['+ layer2.0.downsample.0', 'conv 1x1/2', '28x28x128']);
    expect(p.inserted).toBe(true);
    expect(p.path).toBe('shortcut');
    expect(p.details).toContain('inserted by the projection rule: stride 2, channels 64 -> 128');
    expect(p.details).toContain('inputs: layer1.1.relu2 (56x56x64)');
    expect(p.details).toMatch(/from .*resnet18\.yaml:\d+:\d+/);
    // 0.61 em a character in 12px monospace, plus padding.
    for (const b of l.boxes) expect(b.width).toBeGreaterThanOrEqual(Math.max(...b.lines.map((s) => s.length)) * 12 * 0.6);
  });

  it('labels edges with the shape that flows along them and marks the skip edges', () => {
    const g = shipped('resnet18');
    const l = layoutGraph(g);
    const shapeOf = new Map(g.nodes.map((n) => [n.id, n.shape.join('x')]));
    for (const w of l.wires) expect(w.label).toBe(shapeOf.get(w.from));
    const skips = l.wires.filter((w) => w.skip).map((w) => `${w.from} -> ${w.to}`);
    // Identity skips into the adds of blocks without projection, and the projection chains.
    expect(skips).toContain('layer1.0.relu2 -> layer1.1.add');
    expect(skips).toContain('layer1.1.relu2 -> layer2.0.downsample.0');
    expect(skips).toContain('layer2.0.downsample.1 -> layer2.0.add');
    expect(skips).not.toContain('layer2.0.bn2 -> layer2.0.add');
    expect(skips).toHaveLength(g.graph.edges().filter((e) => g.graph.edge(e).skip).length);
  });

  it('collapses stages into one box each, keeping the inserted projections visible', () => {
    const g = shipped('resnet152');
    const l = layoutGraph(g, { collapse: 'stages' });
    expect(g.nodes.length).toBe(515);
    expect(l.boxes.map((b) => b.id)).toEqual(['input', 'conv1', 'bn1', 'relu', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4', 'avgpool', 'fc']);
    const layer3 = l.boxes.find((b) => b.id === 'layer3')!;
    expect(layer3.kind).toBe('stage');
    expect(layer3.lines).toEqual(['layer3', '36 blocks, 362 nodes', '28x28x512 -> 14x14x1024', expect.stringMatching(/params$/), '+ projection: stride 2, channels 512 -> 1024']);
    expect(layer3.insertedCount).toBe(2);
    expect(l.boxes.filter((b) => b.inserted).map((b) => b.id)).toEqual(['layer1', 'layer2', 'layer3', 'layer4']);
    // One edge between consecutive boxes; the merged skip paths are not drawn twice.
    expect(l.wires.map((w) => `${w.from}>${w.to}`)).toEqual(['input>conv1', 'conv1>bn1', 'bn1>relu', 'relu>maxpool', 'maxpool>layer1', 'layer1>layer2', 'layer2>layer3', 'layer3>layer4', 'layer4>avgpool', 'avgpool>fc']);
    expect(l.wires.find((w) => w.from === 'layer2')!.label).toBe('28x28x512');
    expect(l.wires.every((w) => !w.skip)).toBe(true);
    expect(l.clusters).toEqual([]);
    checkGeometry(l);
    // Readable: a screen or two tall, instead of tens of thousands of pixels.
    expect(l.height).toBeLessThan(1400);
    expect(layoutGraph(shipped('resnet50')).height).toBeGreaterThan(10_000);
  });

  it('a stage without inserted nodes is not marked', () => {
    const l = layoutGraph(shipped('cifar_resnet20'), { collapse: 'stages' });
    const marks = Object.fromEntries(l.boxes.filter((b) => b.kind === 'stage').map((b) => [b.id, b.insertedCount]));
    // zeropad inserts subsample + channel_pad in the two downsampling stages only.
    expect(marks).toEqual({ layer1: 0, layer2: 2, layer3: 2 });
  });
});
