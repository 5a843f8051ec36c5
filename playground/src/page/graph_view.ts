/**
 * The graph pane: skipgraph's own SVG (the compile worker's renderSvg), zoomed and panned with a
 * CSS transform. Opens readable (fitted to the width, but never smaller than READABLE, top
 * first), wheel zooms around the pointer by a fixed factor a notch, drag pans, a click on a box
 * names it.
 */
import type { PictureReply } from '../protocol.js';

/** The smallest zoom the view opens at: the boxes' 12-13 px labels stay at least 9 px tall. */
export const READABLE = 0.75;
/** The zoom factor of one wheel notch (100 px of wheel delta). */
export const NOTCH = 1.2;
const MIN_ZOOM = 0.05;
const MAX_ZOOM = 4;

export class GraphView {
  zoom = 1;
  panX = 0;
  panY = 0;
  private drag: { x: number; y: number; px: number; py: number; moved: boolean } | undefined;

  constructor(
    private readonly pane: HTMLElement,
    private readonly stage: HTMLElement,
    private readonly note: HTMLElement,
    /** A box was clicked (its node or stage id). */
    clicked: (id: string) => void,
  ) {
    pane.addEventListener('wheel', (e) => this.wheel(e), { passive: false });
    pane.addEventListener('pointerdown', (e) => (this.drag = { x: e.clientX, y: e.clientY, px: this.panX, py: this.panY, moved: false }));
    window.addEventListener('pointermove', (e) => this.move(e));
    window.addEventListener('pointerup', () => setTimeout(() => (this.drag = undefined), 0));
    pane.addEventListener('click', (e) => {
      if (this.drag?.moved) return;
      const id = (e.target as Element).closest('g.node')?.getAttribute('data-id');
      if (id) clicked(id);
    });
  }

  clear(): void {
    this.stage.replaceChildren();
  }

  show(m: PictureReply): void {
    if (m.svgError) {
      this.stage.replaceChildren();
      this.note.textContent = m.svgError;
      return;
    }
    this.note.textContent = '';
    const first = !this.stage.firstChild;
    // The SVG is skipgraph's own output (every YAML string XML-escaped); parsed as SVG, not HTML.
    const doc = new DOMParser().parseFromString(m.svg!, 'image/svg+xml');
    this.stage.replaceChildren(document.importNode(doc.documentElement, true));
    if (first) this.readable();
  }

  private size(): { w: number; h: number; pane: DOMRect } | undefined {
    const svg = this.stage.querySelector('svg');
    if (!svg) return undefined;
    return { w: Number(svg.getAttribute('width')), h: Number(svg.getAttribute('height')), pane: this.pane.getBoundingClientRect() };
  }

  /** The opening view: the whole width when that is readable, else READABLE, centred, from the top. */
  readable(): void {
    const s = this.size();
    if (!s) return;
    this.zoom = Math.min(1, Math.max(s.pane.width / s.w, READABLE));
    this.panX = (s.pane.width - s.w * this.zoom) / 2;
    this.panY = 0;
    this.apply();
  }

  /** The whole graph in the pane, however small (the "fit" button). */
  fit(): void {
    const s = this.size();
    if (!s) return;
    this.zoom = Math.min(1, s.pane.width / s.w, s.pane.height / s.h);
    this.panX = (s.pane.width - s.w * this.zoom) / 2;
    this.panY = 0;
    this.apply();
  }

  /** Zooms by `factor` keeping the graph point under (x, y) (pane coordinates) where it is. */
  zoomAt(x: number, y: number, factor: number): void {
    const z = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, this.zoom * factor));
    this.panX = x - ((x - this.panX) * z) / this.zoom;
    this.panY = y - ((y - this.panY) * z) / this.zoom;
    this.zoom = z;
    this.apply();
  }

  private wheel(e: WheelEvent): void {
    e.preventDefault();
    // Wheel deltas come in pixels, lines or pages; a notch is about 100 px in every browser.
    const px = e.deltaMode === 1 ? e.deltaY * 33 : e.deltaMode === 2 ? e.deltaY * 100 : e.deltaY;
    // One event moves at most three notches: a fast flick must not jump out of reach.
    const notches = Math.max(-3, Math.min(3, px / 100));
    const r = this.pane.getBoundingClientRect();
    this.zoomAt(e.clientX - r.left, e.clientY - r.top, NOTCH ** -notches);
  }

  private move(e: PointerEvent): void {
    const d = this.drag;
    if (!d) return;
    const dx = e.clientX - d.x;
    const dy = e.clientY - d.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) d.moved = true;
    if (!d.moved) return;
    this.panX = d.px + dx;
    this.panY = d.py + dy;
    this.apply();
  }

  private apply(): void {
    this.stage.style.transform = `translate(${this.panX}px, ${this.panY}px) scale(${this.zoom})`;
  }

  /** Marks the boxes whose YAML holds the cursor. */
  highlight(ids: ReadonlySet<string>): void {
    for (const el of this.stage.querySelectorAll('g.node.sg-cursor')) el.classList.remove('sg-cursor');
    for (const el of this.stage.querySelectorAll('g.node')) if (ids.has(el.getAttribute('data-id') ?? '')) el.classList.add('sg-cursor');
  }
}
