/**
 * Tiny architectures for the tests that run every op (test/compiler/ops.test.ts, the conformance
 * matrix, the property generator), built from each op's example in the registry (OpDef.example),
 * so a new op enters them with no edit here.
 */
import { OPS, type OpKind } from '../../src/compiler/ops.js';

/** The parts of a tiny architecture, YAML flow style each; the defaults fill the rest. */
export interface Parts {
  input?: string;
  shortcut?: string;
  /** Extra top-level YAML (one line each): drop_path_rate, blocks. */
  extra?: string[];
  stem?: string[];
  stages?: string[];
  head?: string[];
}

/** A conv-BN-ReLU stem giving 4 channels (what the inserted ops' example stages expect). */
export const STEM = ['{ op: conv, filters: 4, kernel: 3 }', '{ op: bn }', '{ op: relu }'];
export const STAGE = '{ block: basic, channels: 4, blocks: 1, stride: 1 }';
const list = (items: string[]) => (items.length === 0 ? ' []' : `\n${items.map((i) => `  - ${i}`).join('\n')}`);

/** A tiny architecture: the parts given, the defaults for the rest (a conv-BN-ReLU stem, one basic block, no head). */
export function arch(name: string, p: Parts = {}): string {
  return [
    // Named after the op: the torch target's class names must not collide with its helpers' (drop_path -> DropPath).
    `name: ${name}`,
    `input: ${p.input ?? '{ height: 8, width: 8, channels: 3 }'}`,
    'classes: 5',
    ...(p.shortcut ? [`shortcut: ${p.shortcut}`] : []),
    ...(p.extra ?? []),
    `stem:${list(p.stem ?? STEM)}`,
    `stages:${list(p.stages ?? [STAGE])}`,
    `head:${list(p.head ?? [])}`,
    '',
  ].join('\n');
}

/**
 * The parts that put `op`'s example in a tiny architecture: a layer at the end, after the stage;
 * an inserted op's stage and lines.
 * - Its input has both signs: a conv with bias on the stage's map, or a global_avg_pool and a
 *   dense layer when it takes a flat tensor. Straight after the stage's relu every value would be
 *   at least 0, and what an op does below 0 (a leaky_relu's slope) would never show.
 * - A layer that makes a map flat is followed by a dense layer: the order of a flattened map's
 *   elements is each target's own (channels-last in TF.js, C, H, W in PyTorch and ONNX), and the
 *   dense layer's weights are what reconcile them.
 */
export function exampleParts(op: OpKind): Parts {
  const ex = OPS[op].example;
  if (!('layer' in ex)) return { stages: [ex.stage], extra: ex.top };
  const before = ex.takes === 'flat' ? ['{ op: global_avg_pool }', '{ op: dense, units: 6 }'] : ['{ op: conv, filters: 4, kernel: 1, bias: true }'];
  const after = ex.takes === 'map' && ex.gives === 'flat' ? ['{ op: dense, units: $classes }'] : [];
  return { head: [...before, ex.layer, ...after] };
}

/** `op`'s example in a tiny architecture named after it, on an 8x8x3 input (or `input`). */
export const exampleArch = (op: OpKind, input?: string): string => arch(op, { input, ...exampleParts(op) });
