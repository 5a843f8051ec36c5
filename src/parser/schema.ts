import type { DefinedError, ValidateFunction } from 'ajv';
import { MAX_DIAGNOSTICS, type DiagnosticBag } from './diagnostics.js';
import validateArchitecture, { ACTIVATIONS as generatedActivations, architectureSchema as generatedSchema, LAYER_OPS as generatedOps } from './generated/validate_architecture.js';
import { didYouMean } from './suggest.js';
import { nodeAt, toPlain, type LNode } from './tree.js';

/**
 * The DSL's JSON Schema: the single source of truth for field names. The generated validator's
 * own copy (scripts/gen-validator.ts exports it), so nothing is read from disk when this loads.
 */
export const architectureSchema = generatedSchema;

/**
 * The schema's validator, generated ahead of time by ajv's standalone code generation
 * (scripts/gen-validator.ts, `npm run gen:validator`) with the options this file's diagnostics rely
 * on (allErrors, discriminator, verbose, strict): nothing is compiled at run time.
 */
const validate = validateArchitecture as unknown as ValidateFunction;

/**
 * Other libraries' names for our ops, answered with a did-you-mean (lower-cased keys). Not accepted
 * as aliases: one name per op keeps files, node names and docs comparable.
 */
export const OP_ALIASES: Readonly<Record<string, string>> = {
  batchnorm: 'bn',
  batchnorm2d: 'bn',
  batch_norm: 'bn',
  batchnormalization: 'bn',
  bn2d: 'bn',
  conv2d: 'conv',
  avgpool2d: 'avgpool',
  averagepooling2d: 'avgpool',
  avg_pool: 'avgpool',
  maxpool2d: 'maxpool',
  maxpooling2d: 'maxpool',
  max_pool: 'maxpool',
  linear: 'dense',
  fc: 'dense',
  adaptiveavgpool2d: 'global_avg_pool',
  globalaveragepooling2d: 'global_avg_pool',
  swish: 'silu',
  zeropad2d: 'zeropad',
  zeropadding2d: 'zeropad',
};

const ALIAS_ORIGIN: Readonly<Record<string, string>> = {
  bn: "PyTorch's or Keras's name for batch norm",
  conv: "PyTorch's or Keras's name for a 2-D conv",
  avgpool: "PyTorch's or Keras's name for average pooling",
  maxpool: "PyTorch's or Keras's name for max pooling",
  dense: "PyTorch's name for a fully connected layer",
  global_avg_pool: "PyTorch's or Keras's name for global average pooling",
  silu: 'the other name of SiLU',
  zeropad: "PyTorch's or Keras's name for zero padding",
};

/** The op names the schema knows, in schema order (generated from it with scripts/gen-validator.ts). */
export const LAYER_OPS = generatedOps;

/** A layer op once the schema has checked it: one of LAYER_OPS. */
export type LayerOp = (typeof LAYER_OPS)[number];

/**
 * The activations a file may name as a word, in schema order (generated from it). Re-exported
 * here, as LAYER_OPS is, so the published declarations spell the words out and never point into
 * the generated validator (whose own declarations do not pass skipLibCheck: false).
 */
export const ACTIVATIONS = generatedActivations;

/** Whether `op` is one of the schema's layer ops. */
export function isLayerOp(op: string): op is LayerOp {
  return (LAYER_OPS as readonly string[]).includes(op);
}

/**
 * Validates the merged tree against the schema and reports each violation at the YAML node it is
 * about (on the key itself for unknown keys). Returns true when the tree is valid.
 */
/** One schema violation, for recovery (src/parser/recover.ts): where, and which keyword. */
export interface SchemaFailure {
  segs: string[];
  keyword: string;
  /** The unknown key, for additionalProperties. */
  key?: string;
}

export function validateTree(root: LNode, bag: DiagnosticBag, failures?: SchemaFailure[]): boolean {
  if (root.kind !== 'map') {
    bag.error('not-a-mapping', `The top level must be a mapping of keys (name, input, stages, ...), not ${describe(root)}.`, root.loc, 'Start from architectures/resnet18.yaml.');
    return false;
  }
  if (!sizesFit(root, bag)) {
    failures?.push({ segs: [], keyword: 'size' });
    return false;
  }
  if (validate(toPlain(root))) return true;
  // The schema uses only ajv's own keywords, whose errors DefinedError types (ajv's documented way in).
  const errors = pickErrors((validate.errors ?? []) as DefinedError[]);
  if (failures) for (const e of errors) failures.push({ segs: segments(e.instancePath), keyword: e.keyword, key: e.keyword === 'additionalProperties' ? e.params.additionalProperty : undefined });
  for (let i = 0; i < errors.length; i++) {
    // Past the cap nothing more is shown; stop (each report looks its node up, and 90,000 unknown
    // keys made that quadratic).
    if (bag.items.length >= MAX_DIAGNOSTICS) {
      bag.dropped += errors.length - i;
      break;
    }
    report(errors[i], root, bag);
  }
  if (!bag.hasErrors) bag.error('invalid-value', 'The file does not match the architecture schema.', root.loc);
  return false;
}

/** No list or mapping in the schema may hold more than this (its largest maxItems is 256). */
const MAX_COLLECTION = 256;

/**
 * Refuses oversized lists and mappings before ajv sees them: with allErrors, ajv concatenates the
 * error list after every $ref'd item, which is quadratic (40,000 bad layers in 1 MB took 13 s).
 */
function sizesFit(root: LNode, bag: DiagnosticBag): boolean {
  const stack: { node: LNode; path: string[] }[] = [{ node: root, path: [] }];
  while (stack.length) {
    const { node, path } = stack.pop()!;
    const n = node.kind === 'seq' ? node.items.length : node.kind === 'map' ? node.entries.length : 0;
    if (n > MAX_COLLECTION) {
      const what = node.kind === 'seq' ? 'items' : 'entries';
      bag.error('out-of-range', `${prettyPath(path)} has ${n.toLocaleString('en-US')} ${what}; no list or mapping in an architecture holds more than ${MAX_COLLECTION}.`, node.loc, 'This looks generated by mistake.');
      return false;
    }
    if (node.kind === 'seq') node.items.forEach((c, i) => stack.push({ node: c, path: [...path, String(i)] }));
    else if (node.kind === 'map') for (const e of node.entries) stack.push({ node: e.value, path: [...path, e.key] });
  }
  return true;
}

/** ajv reports the failing branch of if/then/else and its own wrapper error; keep what users need. */
function pickErrors(errors: DefinedError[]): DefinedError[] {
  const kept = errors.filter((e) => e.keyword !== 'if');
  // A discriminator failure makes the branch errors meaningless: keep only it at that path.
  const disc = new Set(kept.filter((e) => e.keyword === 'discriminator').map((e) => e.instancePath));
  return kept.filter((e) => e.keyword === 'discriminator' || !disc.has(e.instancePath));
}

function segments(instancePath: string): string[] {
  if (!instancePath) return [];
  return instancePath.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `stages[1].channels` for messages. */
export function prettyPath(segs: readonly string[]): string {
  let out = '';
  for (const s of segs) out += /^\d+$/.test(s) ? `[${s}]` : out ? `.${s}` : s;
  return out || 'the top level';
}

function describe(n: LNode | undefined): string {
  if (!n) return 'nothing';
  if (n.kind === 'map') return 'a mapping';
  if (n.kind === 'seq') return 'a list';
  if (n.value === null) return 'an empty value';
  if (typeof n.value === 'string') return `the text "${n.value.length > 40 ? n.value.slice(0, 40) + '...' : n.value}"`;
  return `${typeof n.value === 'number' ? 'the number' : 'the value'} ${n.value}`;
}

function report(e: DefinedError, root: LNode, bag: DiagnosticBag): void {
  const segs = segments(e.instancePath);
  const { node, entry } = nodeAt(root, segs);
  const where = prettyPath(segs);
  const field = segs.length ? segs[segs.length - 1] : '';
  const loc = node?.loc ?? root.loc;
  const props = (e.parentSchema as SchemaNode | undefined)?.properties;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = e.params.additionalProperty;
      const keyEntry = node?.kind === 'map' ? node.entries.find((x) => x.key === key) : undefined;
      const known = props ? Object.keys(props).filter((k) => k !== 'op' && k !== '$schema') : [];
      const hint = didYouMean(key, known) ?? (known.length ? `Known keys here: ${known.join(', ')}.` : undefined);
      const inWhat = segs.length ? ` in ${where}` : '';
      bag.error('unknown-key', `Unknown key "${key}"${inWhat}.`, keyEntry?.keyLoc ?? loc, hint);
      return;
    }
    case 'required': {
      const missing = e.params.missingProperty;
      bag.error('missing-field', `Missing required field "${missing}"${segs.length ? ` in ${where}` : ''}.`, segs.length ? (entry?.keyLoc ?? loc) : loc, fieldHint(missing));
      return;
    }
    case 'discriminator': {
      const p = e.params;
      if (`${p.error}` === 'mapping' && p.tagValue !== undefined) {
        const opNode = node?.kind === 'map' ? node.entries.find((x) => x.key === 'op') : undefined;
        const bad = String(p.tagValue);
        const alias = Object.hasOwn(OP_ALIASES, bad.toLowerCase()) ? OP_ALIASES[bad.toLowerCase()] : undefined; // own keys only: `op: constructor` found Object
        const hint = alias ? `Did you mean "${alias}"? ("${bad}" is ${ALIAS_ORIGIN[alias] ?? "another library's name"}; here it is ${alias}.)` : didYouMean(bad, [...LAYER_OPS]);
        bag.error('unknown-op', `Unknown op "${bad}" in ${where}.`, opNode?.value.loc ?? loc, hint ?? `Ops: ${LAYER_OPS.join(', ')}.`);
      } else {
        bag.error('missing-field', `A layer needs an "op" (${where}).`, loc, `Ops: ${LAYER_OPS.join(', ')}.`);
      }
      return;
    }
    case 'type': {
      const want = String(e.params.type);
      const v = node?.kind === 'scalar' ? node.value : undefined;
      if (want === 'integer' && typeof v === 'number') {
        bag.error('out-of-range', `"${field}" must be a whole number, not ${v} (${where}).`, loc);
        return;
      }
      bag.error('wrong-type', `"${field || 'value'}" must be ${article(want)}, not ${describe(node)} (${where}).`, loc, typeHint(want, node));
      return;
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const p = e.params;
      bag.error('out-of-range', `"${field}" is ${describe(node).replace(/^the number /, '')}; it must be ${p.comparison} ${p.limit} (${where}).`, loc);
      return;
    }
    case 'minItems':
    case 'maxItems': {
      const p = e.params;
      bag.error('out-of-range', `${where} must have ${e.keyword === 'minItems' ? 'at least' : 'at most'} ${p.limit} item(s).`, loc);
      return;
    }
    case 'maxProperties':
      bag.error('out-of-range', `${where} has too many entries (at most ${e.params.limit}).`, loc);
      return;
    case 'enum': {
      const allowed = (e.params.allowedValues as unknown[]).map(String);
      const v = node?.kind === 'scalar' ? String(node.value) : '';
      bag.error('invalid-value', `"${field}" cannot be ${describe(node).replace(/^the (text|value|number) /, '')}; use one of: ${allowed.join(', ')} (${where}).`, loc, didYouMean(v, allowed));
      return;
    }
    case 'const':
      bag.error('invalid-value', `"${field}" must be ${JSON.stringify(e.params.allowedValue)} (${where}).`, loc);
      return;
    case 'pattern':
    case 'propertyNames':
    case 'maxLength':
    case 'minLength': {
      if (e.keyword === 'propertyNames') {
        const name = e.params.propertyName;
        const keyEntry = node?.kind === 'map' ? node.entries.find((x) => x.key === name) : undefined;
        bag.error('invalid-value', `"${name}" is not a valid name in ${where} (letters, digits and _, not starting with a digit).`, keyEntry?.keyLoc ?? loc);
        return;
      }
      if (e.keyword === 'pattern' && e.schemaPath.startsWith('#/$defs/name/') && node?.kind === 'scalar') {
        bag.error('invalid-value', `"${String(node.value)}" is not a valid node name (${where}).`, loc, 'A name starts with a letter and holds letters, digits, "_" and "." (TF.js refuses tensor names that start with "_").');
        return;
      }
      if (e.keyword === 'pattern' && e.schemaPath.startsWith('#/$defs/layerName/') && node?.kind === 'scalar') {
        bag.error('invalid-value', `"${String(node.value)}" is not a valid node name (${where}).`, loc, 'A layer name starts with a letter or a digit (in the stem and the head, where it is the whole node id, with a letter) and holds letters, digits, "_" and "." (TF.js refuses tensor names that start with "_").');
        return;
      }
      if (segs.length >= 2 && segs[segs.length - 2] && node?.kind === 'scalar' && (e.schemaPath.includes('/expr') || e.schemaPath.includes('/then'))) {
        bag.error('expr-syntax', `"${field}" must be a number or an expression with $parameters, not ${describe(node)} (${where}).`, loc);
        return;
      }
      bag.error('invalid-value', `"${field}" is not valid: ${e.message} (${where}).`, loc);
      return;
    }
    case 'not':
      bag.error('invalid-value', `"${field}" must have 1, 2 or 4 numbers (${where}).`, loc, 'Padding: n, [vertical, horizontal] or [top, bottom, left, right].');
      return;
    default:
      bag.error('invalid-value', `${where}: ${e.message}.`, loc);
  }
}

function article(t: string): string {
  return t === 'integer' ? 'an integer' : t === 'object' ? 'a mapping' : t === 'array' ? 'a list' : `a ${t}`;
}

function typeHint(want: string, node: LNode | undefined): string | undefined {
  if (want === 'object' && node?.kind === 'scalar') return 'Write the fields on indented lines below the key, or as { key: value }.';
  if (want === 'array' && node?.kind === 'map') return 'Start each item with "- ".';
  if ((want === 'integer' || want === 'number') && node?.kind === 'scalar' && typeof node.value === 'string' && /^\s*-?\d/.test(node.value)) return 'Remove the quotes and units.';
  return undefined;
}

/** The part of a JSON Schema node the messages read. */
interface SchemaNode {
  description?: string;
  $ref?: string;
  properties?: Record<string, SchemaNode>;
}

export function fieldHint(missing: string): string | undefined {
  const holders: SchemaNode[] = [architectureSchema, architectureSchema.$defs.stage, architectureSchema.$defs.regnet];
  const doc = holders.map((h) => (h.properties && Object.hasOwn(h.properties, missing) ? h.properties[missing].description : undefined)).find((d) => d !== undefined);
  return doc ? `${missing}: ${doc}` : undefined;
}
