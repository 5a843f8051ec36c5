import { makeDivisible, type ArchitectureAst, type DiagnosticBag, type StageAst } from '../parser/index.js';
import { BUILTIN_PARAMS } from './blocks.js';
import { UNKNOWN, type Env } from './layers.js';
import { blockPrefix } from './regnet.js';

/**
 * What a network says once for all its stages (issue 24: MobileNet and EfficientNet): its own
 * parameters, compound scaling, the stochastic-depth schedule and how blocks are numbered.
 */

/**
 * The network's scope: $classes, the `params:` and, with `scaling:`, $width_mult and $depth_mult.
 * The stem, the head and every block see it. A network parameter may not take a built-in name.
 */
export function networkEnv(ast: ArchitectureAst, bag: DiagnosticBag): Env | undefined {
  // A backbone may give no classes: $classes is then no parameter at all (not a silent 0).
  const env: Env = new Map(ast.partial?.classes ? [['classes', UNKNOWN]] : ast.classes === undefined ? [] : [['classes', ast.classes]]);
  if (ast.scaling) {
    env.set('width_mult', ast.scaling.width);
    env.set('depth_mult', ast.scaling.depth);
  }
  let ok = true;
  for (const [k, v] of Object.entries(ast.params ?? {})) {
    if (BUILTIN_PARAMS.includes(k)) {
      bag.error('param-shadowed', `The network parameter "${k}" would hide the built-in $${k}.`, ast.paramLocs?.[k] ?? ast.loc, `Give it another name; $${k} is always the value docs/dsl.md describes.`);
      ok = false;
    }
    env.set(k, v);
  }
  return ok ? env : undefined;
}

/**
 * torchvision's EfficientNet compound scaling (MBConvConfig.adjust_channels and adjust_depth):
 * channels -> _make_divisible(channels * width, divisor), blocks -> ceil(blocks * depth).
 */
export function applyScaling(ast: ArchitectureAst): ArchitectureAst {
  const sc = ast.scaling;
  if (!sc || (sc.width === 1 && sc.depth === 1)) return ast;
  const stages = ast.stages.map((s): StageAst => ({
    ...s,
    channels: makeDivisible(s.channels * sc.width, sc.divisor),
    blocks: Math.ceil(s.blocks * sc.depth),
    fieldLocs: { ...s.fieldLocs, channels: s.fieldLocs.channels ?? sc.loc, blocks: s.fieldLocs.blocks ?? sc.loc },
  }));
  return { ...ast, stages };
}

/**
 * A block's stochastic-depth rate: the stage's `drop_path` when written, else the network's
 * schedule over every block j of n (counted over all stages, with a residual or not):
 * `linspace` (timm; torchvision's ConvNeXt) rate * j / (n - 1), `efficientnet` (torchvision's
 * EfficientNet) rate * j / n. Layers between stages (`numbering: none`) are not blocks there:
 * torchvision's ConvNeXt counts its 18 CNBlocks, not its 3 downsample layers.
 */
export function dropPathRate(ast: ArchitectureAst, stage: StageAst, index: number): number {
  if (stage.dropPath !== undefined) return stage.dropPath;
  if (!ast.dropPathRate) return 0;
  let before = 0;
  let total = 0;
  for (const s of ast.stages) {
    if (s.numbering === 'none') continue;
    if (s.index < stage.index) before += s.blocks;
    total += s.blocks;
  }
  if (ast.dropPathSchedule === 'efficientnet') return (ast.dropPathRate * (before + index)) / total;
  return total > 1 ? (ast.dropPathRate * (before + index)) / (total - 1) : 0;
}

/**
 * Block names of every stage: `nested` `<stage>.<first_index + i>.`, `flat` `<stage>.<k>.` with k
 * counting on over the stages of the same name (MobileNet's features.1 .. features.17), `none`
 * `<stage>.` (a one-block stage). Generated RegNet stages keep their own names.
 */
export class BlockNumbering {
  private readonly next = new Map<string, number>();

  /** The prefixes of one stage's blocks, or undefined after reporting a `none` stage of several blocks. */
  prefixes(name: string, stage: StageAst, bag: DiagnosticBag): string[] | undefined {
    if (stage.numbering === 'none') {
      if (stage.blocks !== 1) {
        bag.error('invalid-value', `Stage ${name} has numbering: none, which names one block "${name}.", but it has ${stage.blocks} blocks.`, stage.fieldLocs.blocks ?? stage.loc, 'Use blocks: 1 (layers between stages), or numbering: nested or flat.');
        return undefined;
      }
      return [`${name}.`];
    }
    if (stage.numbering === 'nested' && stage.firstIndex === undefined) return Array.from({ length: stage.blocks }, (_, i) => blockPrefix(name, stage, i));
    const start = stage.firstIndex ?? (stage.numbering === 'flat' ? (this.next.get(name) ?? 0) : 0);
    if (stage.numbering === 'flat') this.next.set(name, start + stage.blocks);
    return Array.from({ length: stage.blocks }, (_, i) => `${name}.${start + i}.`);
  }
}
