/** Messages between the page and its workers (plain data: everything crosses postMessage). */

export interface CompileRequest {
  type: 'compile';
  id: number;
  text: string;
  file: string;
  /** `--set path=value` overrides, as the CLI takes them. */
  sets: string[];
  collapse: 'none' | 'stages';
  /** The picture worker lays the graph out; the diagnostics worker never waits for a layout. */
  picture: boolean;
}

export interface HelpRequest {
  type: 'complete' | 'hover';
  id: number;
  text: string;
  pos: number;
}

export interface PageDiagnostic {
  code: string;
  severity: 'error' | 'warning';
  message: string;
  hint?: string;
  /** Where the diagnostic is: the editor's text, or one of the --set overrides (its text). */
  source: 'text' | 'set';
  file: string;
  line: number;
  col: number;
  from: number;
  to: number;
  /** The CLI's rendering: file:line:col, source line, caret. */
  formatted: string;
}

/** One override control: a `--set path=value` the page shows and sends (input.size sets both sides). */
export interface Knob {
  label: string;
  path: string;
  value: number;
  min: number;
  max: number;
  /** The smallest change (1 for counts, 0.01 for RegNet's slope and multiplier). */
  step: number;
  kind: 'range' | 'number';
}

export interface Knobs {
  knobs: Knob[];
  /** Why some values have no control (stages inherited through extends). */
  note?: string;
}

export interface Summary {
  name: string;
  /** What the model returns: "10 classes", or "backbone, 3 feature maps". */
  returns: string;
  nodes: number;
  inserted: number;
  params: number;
  trainableParams: number;
  nonTrainableParams: number;
  macs: number;
  activationBytes: number;
  stages: { name: string; blocks: number; shape: number[] }[];
}

export interface CompileReply {
  type: 'compiled';
  id: number;
  ok: boolean;
  diagnostics: PageDiagnostic[];
  dropped: number;
  ms: number;
  summary?: Summary;
  table?: string;
  knobs?: Knobs;
  /** Text ranges of every drawn box (nodes, or stages when collapsed), for click-to-line and cursor highlight. */
  places: { id: string; from: number; to: number; line: number }[];
}

/** Sent after the CompileReply of the same id: the SVG picture (or why there is none). */
export interface PictureReply {
  type: 'picture';
  id: number;
  ms: number;
  svg?: string;
  /** Why there is no picture (too many nodes for the full view). */
  svgError?: string;
}

export interface HelpReply {
  type: 'help';
  id: number;
  from: number;
  to: number;
  options: { label: string; detail?: string; info?: string; type: 'property' | 'enum' }[];
  doc?: string;
}

export interface TrainRequest {
  type: 'train';
  text: string;
  file: string;
  sets: string[];
  steps: number;
  batch: number;
  lr: number;
  backend?: string;
}
export type TrainControl = { type: 'stop' } | { type: 'resume'; steps: number } | { type: 'export' } | { type: 'predict'; count: number };

export type TrainEvent =
  /** The backend chosen; `probes`: what the quick measurement of each candidate gave (ms, lower is faster). */
  | { type: 'backend'; backend: string; tried: string[]; probes: { backend: string; ms: number }[] }
  | { type: 'built'; params: number; name: string; ms: number }
  | { type: 'data'; train: number; heldOut: number }
  | { type: 'step'; step: number; loss: number; accuracy: number; msPerStep: number }
  | { type: 'eval'; step: number; accuracy: number }
  | { type: 'paused'; step: number }
  | { type: 'done'; step: number }
  | { type: 'exported'; modelJson: string; weights: ArrayBuffer }
  | { type: 'predictions'; inputs: number[][]; outputs: number[][] }
  | { type: 'error'; message: string };
