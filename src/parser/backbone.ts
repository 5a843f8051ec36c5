import type { ArchitectureAst, FeatureAst } from './ast.js';
import type { DiagnosticBag } from './diagnostics.js';
import { fieldHint } from './schema.js';
import { getEntry, type LMap } from './tree.js';

/**
 * What makes a file a classifier or a backbone, checked where it is written:
 * - a classifier has a head (a list of layers) and `classes`;
 * - a backbone has `features` (the maps it returns, timm's features_only) and no head: either none
 *   at all or `head: none`, which drops one inherited through `extends`. A backbone with a head is
 *   refused rather than the head silently dropped.
 * Returns the AST's `features` (undefined for a classifier); names are resolved by the compiler.
 */
export function readFeatures(root: LMap, file: string, bag: DiagnosticBag): Pick<ArchitectureAst, 'features'> | undefined {
  const features = getEntry(root, 'features');
  const head = getEntry(root, 'head');
  const headNone = head?.value.kind === 'scalar' && head.value.value === 'none';
  if (!features) {
    if (headNone) {
      bag.error('head-and-features', '"head: none" makes a backbone, but the file has no "features" naming the maps it returns.', head.value.loc, 'Add `features: [layer1, layer2, ...]` (stage names or node ids), or give the head its layers.');
      return undefined;
    }
    let ok = true;
    for (const key of ['head', 'classes']) {
      if (getEntry(root, key)) continue;
      const hint = key === 'head' ? `${fieldHint(key)} (For a backbone, write \`features: [...]\` instead.)` : fieldHint(key);
      bag.error('missing-field', `Missing required field "${key}".`, root.loc, hint);
      ok = false;
    }
    return ok ? {} : undefined;
  }
  if (head && !headNone) {
    // Where the head comes from decides what to say: its own file, or a base through `extends`.
    const inherited = head.keyLoc.file !== file;
    bag.error(
      'head-and-features',
      `A backbone (a file with "features") returns its feature maps and has no head, but this file ${inherited ? `inherits a head from ${head.keyLoc.file}` : 'has one'}.`,
      features.keyLoc,
      inherited ? 'Write `head: none` to drop the inherited head.' : 'Remove the head (or write `head: none`), or remove "features" to keep a classifier.',
    );
    return undefined;
  }
  const out: FeatureAst[] = [];
  const seen = new Set<string>();
  let ok = true;
  if (features.value.kind !== 'seq') return undefined; // the schema reported it
  for (const item of features.value.items) {
    if (item.kind !== 'scalar' || typeof item.value !== 'string') return undefined; // the schema reported it
    if (seen.has(item.value)) {
      bag.error('duplicate-feature', `"${item.value}" is listed twice in features.`, item.loc, 'Each map is returned once; remove one of them.');
      ok = false;
      continue;
    }
    seen.add(item.value);
    out.push({ name: item.value, loc: item.loc });
  }
  return ok ? { features: out } : undefined;
}
