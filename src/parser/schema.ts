import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { MAX_DIAGNOSTICS, type DiagnosticBag } from './diagnostics.js';
import { didYouMean } from './suggest.js';
import { nodeAt, toPlain, type LNode } from './tree.js';

/** The DSL's JSON Schema: the single source of truth for field names. */
export const architectureSchema: Record<string, any> = JSON.parse(
  readFileSync(new URL('../../schemas/architecture.schema.json', import.meta.url), 'utf8'),
);

let validator: ValidateFunction | undefined;
function getValidator(): ValidateFunction {
  // Compiled once per process, on first use.
  validator ??= new Ajv({ allErrors: true, discriminator: true, verbose: true, strict: true, strictTypes: false }).compile(architectureSchema);
  return validator;
}

/** The op names the schema knows, in schema order. */
export const LAYER_OPS: readonly string[] = architectureSchema.$defs.layer.oneOf.map((b: any) => b.properties.op.const);

/**
 * Validates the merged tree against the schema and reports each violation at the YAML node it is
 * about (on the key itself for unknown keys). Returns true when the tree is valid.
 */
export function validateTree(root: LNode, bag: DiagnosticBag): boolean {
  const validate = getValidator();
  if (root.kind !== 'map') {
    bag.error('not-a-mapping', `The top level must be a mapping of keys (name, input, stages, ...), not ${describe(root)}.`, root.loc, 'Start from architectures/resnet18.yaml.');
    return false;
  }
  if (validate(toPlain(root))) return true;
  const errors = pickErrors(validate.errors ?? []);
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

/** ajv reports the failing branch of if/then/else and its own wrapper error; keep what users need. */
function pickErrors(errors: ErrorObject[]): ErrorObject[] {
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

function report(e: ErrorObject, root: LNode, bag: DiagnosticBag): void {
  const segs = segments(e.instancePath);
  const { node, entry } = nodeAt(root, segs);
  const where = prettyPath(segs);
  const field = segs.length ? segs[segs.length - 1] : '';
  const loc = node?.loc ?? root.loc;
  const props = (e.parentSchema as any)?.properties as Record<string, unknown> | undefined;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as any).additionalProperty as string;
      const keyEntry = node?.kind === 'map' ? node.entries.find((x) => x.key === key) : undefined;
      const known = props ? Object.keys(props).filter((k) => k !== 'op' && k !== '$schema') : [];
      const hint = didYouMean(key, known) ?? (known.length ? `Known keys here: ${known.join(', ')}.` : undefined);
      const inWhat = segs.length ? ` in ${where}` : '';
      bag.error('unknown-key', `Unknown key "${key}"${inWhat}.`, keyEntry?.keyLoc ?? loc, hint);
      return;
    }
    case 'required': {
      const missing = (e.params as any).missingProperty as string;
      bag.error('missing-field', `Missing required field "${missing}"${segs.length ? ` in ${where}` : ''}.`, segs.length ? (entry?.keyLoc ?? loc) : loc, fieldHint(missing));
      return;
    }
    case 'discriminator': {
      const p = e.params as any;
      if (p.error === 'mapping' && p.tagValue !== undefined) {
        const opNode = node?.kind === 'map' ? node.entries.find((x) => x.key === 'op') : undefined;
        const bad = String(p.tagValue);
        bag.error('unknown-op', `Unknown op "${bad}" in ${where}.`, opNode?.value.loc ?? loc, didYouMean(bad, LAYER_OPS) ?? `Ops: ${LAYER_OPS.join(', ')}.`);
      } else {
        bag.error('missing-field', `A layer needs an "op" (${where}).`, loc, `Ops: ${LAYER_OPS.join(', ')}.`);
      }
      return;
    }
    case 'type': {
      const want = (e.params as any).type as string;
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
      const p = e.params as any;
      bag.error('out-of-range', `"${field}" is ${describe(node).replace(/^the number /, '')}; it must be ${p.comparison} ${p.limit} (${where}).`, loc);
      return;
    }
    case 'minItems':
    case 'maxItems': {
      const p = e.params as any;
      bag.error('out-of-range', `${where} must have ${e.keyword === 'minItems' ? 'at least' : 'at most'} ${p.limit} item(s).`, loc);
      return;
    }
    case 'maxProperties':
      bag.error('out-of-range', `${where} has too many entries (at most ${(e.params as any).limit}).`, loc);
      return;
    case 'enum': {
      const allowed = ((e.params as any).allowedValues as unknown[]).map(String);
      const v = node?.kind === 'scalar' ? String(node.value) : '';
      bag.error('invalid-value', `"${field}" cannot be ${describe(node).replace(/^the (text|value|number) /, '')}; use one of: ${allowed.join(', ')} (${where}).`, loc, didYouMean(v, allowed));
      return;
    }
    case 'const':
      bag.error('invalid-value', `"${field}" must be ${JSON.stringify((e.params as any).allowedValue)} (${where}).`, loc);
      return;
    case 'pattern':
    case 'propertyNames':
    case 'maxLength':
    case 'minLength': {
      if (e.keyword === 'propertyNames') {
        const name = (e.params as any).propertyName as string;
        const keyEntry = node?.kind === 'map' ? node.entries.find((x) => x.key === name) : undefined;
        bag.error('invalid-value', `"${name}" is not a valid name in ${where} (letters, digits and _, not starting with a digit).`, keyEntry?.keyLoc ?? loc);
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

function fieldHint(missing: string): string | undefined {
  const doc = (architectureSchema.properties as any)[missing]?.description ?? (architectureSchema.properties.stages.items.properties as any)[missing]?.description;
  return doc ? `${missing}: ${doc}` : undefined;
}
