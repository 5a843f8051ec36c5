/**
 * Training in the page: a train worker per run, its events shown as status lines and a chart,
 * Stop / Resume / Download model.
 */
import type { TrainEvent, TrainRequest } from '../protocol.js';
import { drawChart, type Curves } from './chart.js';
import { $ } from './dom.js';
import { grouped } from './summary.js';

export class TrainingPanel {
  private trainer: Worker | undefined;
  private readonly curves: Curves = { points: [], evals: [] };
  /** Every event of the current run (read by the tests through the page's hooks). */
  events: TrainEvent[] = [];

  constructor(
    /** What to train: the editor's text and the overrides, read when Train is pressed. */
    private readonly request: () => Omit<TrainRequest, 'type' | 'steps' | 'batch' | 'lr'>,
  ) {
    const num = (id: string) => Number($<HTMLInputElement>(id).value);
    $('train').addEventListener('click', () => this.start({ type: 'train', ...this.request(), steps: num('steps'), batch: num('batch'), lr: num('lr') }));
    $('stop').addEventListener('click', () => this.trainer?.postMessage({ type: 'stop' }));
    $('resume').addEventListener('click', () => {
      this.buttons(true);
      this.trainer?.postMessage({ type: 'resume', steps: num('steps') });
    });
    $('download').addEventListener('click', () => this.trainer?.postMessage({ type: 'export' }));
    this.buttons(false);
    this.draw();
  }

  private start(req: TrainRequest): void {
    this.trainer?.terminate();
    const t = new Worker(new URL('./train.worker.js', import.meta.url), { type: 'module' });
    this.trainer = t;
    t.onmessage = (e: MessageEvent<TrainEvent>) => this.event(e.data);
    t.onerror = (e) => this.event({ type: 'error', message: e.message });
    this.curves.points.length = 0;
    this.curves.evals.length = 0;
    this.events = [];
    $('train-status').textContent = 'starting...';
    this.buttons(true);
    t.postMessage(req);
  }

  /** The trained model's logits on the first n held-out digits, with those inputs (tests, scripts). */
  predict(n: number): Promise<TrainEvent> {
    return new Promise((resolve) => {
      const t = this.trainer!;
      t.onmessage = (e: MessageEvent<TrainEvent>) => {
        if (e.data.type !== 'predictions') return this.event(e.data);
        t.onmessage = (m: MessageEvent<TrainEvent>) => this.event(m.data);
        resolve(e.data);
      };
      t.postMessage({ type: 'predict', count: n });
    });
  }

  private event(e: TrainEvent): void {
    this.events.push(e);
    const log = $('train-status');
    switch (e.type) {
      case 'backend': {
        const probes = e.probes.map((p) => `${p.backend} ${p.ms.toFixed(1)} ms`).join(', ');
        $('backend').textContent = e.backend + (probes ? ` (probe: ${probes})` : '') + (e.tried.length ? ` (not available: ${e.tried.join('; ')})` : '');
        break;
      }
      case 'built':
        log.textContent = `built ${e.name} (${grouped(e.params)} params) in ${e.ms.toFixed(0)} ms`;
        break;
      case 'step':
        this.curves.points.push(e);
        log.textContent = `step ${e.step}: loss ${e.loss.toFixed(3)}, batch accuracy ${(e.accuracy * 100).toFixed(0)}%, ${e.msPerStep.toFixed(0)} ms/step`;
        this.draw();
        break;
      case 'eval':
        this.curves.evals.push(e);
        $('heldout').textContent = `held-out accuracy at step ${e.step}: ${(e.accuracy * 100).toFixed(1)}%`;
        this.draw();
        break;
      case 'paused':
      case 'done':
        this.buttons(false);
        log.textContent += e.type === 'done' ? ' (done)' : ' (stopped)';
        break;
      case 'exported':
        download('model.json', new Blob([e.modelJson], { type: 'application/json' }));
        download('weights.bin', new Blob([e.weights], { type: 'application/octet-stream' }));
        break;
      case 'error':
        log.textContent = `error: ${e.message}`;
        this.buttons(false);
        break;
      case 'data':
      case 'predictions':
        break;
    }
  }

  private buttons(running: boolean): void {
    const trained = this.curves.points.length > 0;
    $('train').toggleAttribute('disabled', running);
    $('stop').toggleAttribute('disabled', !running);
    $('resume').toggleAttribute('disabled', running || !trained);
    $('download').toggleAttribute('disabled', running || !trained);
  }

  private draw(): void {
    drawChart($<HTMLCanvasElement>('chart'), this.curves);
  }
}

function download(name: string, blob: Blob): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
