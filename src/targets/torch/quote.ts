/**
 * How text from input enters the emitted Python: through `pyStr`, and nothing else.
 *
 * File names, paths, model and node names, descriptions and `--set` values are input. In the
 * emitted module they stand only inside string literals made by `pyStr` (or, in comments and
 * docstrings, as `pyText`, which is `pyStr`'s literal unless the text is plainly safe). Identifiers
 * made from names (`ident`, `camel`) keep only ASCII letters, digits and `_`. So no input can end a
 * line, open a statement, or be read as a source-encoding declaration (PEP 263) or an editor's
 * modeline: the emitted file is printable ASCII.
 */
import { TorchEmitError } from './error.js';

/** Python's keywords and soft keywords (checked against Python's `keyword` module by test/targets/torch/names.test.ts). */
export const PY_KEYWORDS: ReadonlySet<string> = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield _ case match type'.split(' '),
);

/** nn.Module's own attributes and methods: a child of that name would be shadowed (it goes in `_modules`). */
const MODULE_ATTRS = new Set(
  'T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda double dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter get_submodule half ipu load_state_dict modules mtia named_buffers named_children named_modules named_parameters parameters register_backward_hook register_buffer register_forward_hook register_forward_pre_hook register_full_backward_hook register_full_backward_pre_hook register_load_state_dict_post_hook register_load_state_dict_pre_hook register_module register_parameter register_state_dict_post_hook register_state_dict_pre_hook requires_grad_ set_extra_state set_submodule share_memory state_dict to to_empty train training type xpu zero_grad'.split(' '),
);

const PLAIN_ESCAPES: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A code point as a Python escape (\xNN, \uNNNN or \UNNNNNNNN). */
function escapeCodePoint(cp: number): string {
  if (cp < 0x100) return `\\x${cp.toString(16).padStart(2, '0')}`;
  if (cp < 0x10000) return `\\u${cp.toString(16).padStart(4, '0')}`;
  return `\\U${cp.toString(16).padStart(8, '0')}`;
}

/**
 * THE quoting function: `s` as a Python string literal (`"..."`, or `"""..."""` for a docstring)
 * that is printable ASCII. Backslash, the quote and every character outside ' '..'~' are escaped;
 * so is one letter of `coding` (PEP 263's and Emacs's encoding declaration) and the colon of `vi:`,
 * `vim:` and `ex:` (vim's modelines), which keeps the literal's value and takes away its meaning to
 * Python's tokenizer and to editors wherever the literal stands, comments included.
 */
export function pyStr(s: string, quote: '"' | '"""' = '"'): string {
  let body = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    body += PLAIN_ESCAPES[ch] ?? (cp >= 0x20 && cp <= 0x7e ? ch : escapeCodePoint(cp));
  }
  body = body.replace(/(c)(o)(ding)/gi, (_, c: string, o: string, rest: string) => `${c}${escapeCodePoint(o.codePointAt(0)!)}${rest}`);
  body = body.replace(/(\b(?:vi|vim|ex)):/gi, (_, word: string) => `${word}\\x3a`);
  return `${quote}${body}${quote}`;
}

/** Text that may stand as itself in a comment or docstring: a plain path or name, which cannot declare anything. */
const PLAIN_TEXT = /^[A-Za-z0-9_./+-]+$/;

/** `s` for a comment or docstring: itself when plain (no `:`, `=`, space, quote or `coding`), else its `pyStr` literal. */
export function pyText(s: string): string {
  return PLAIN_TEXT.test(s) && !/coding/i.test(s) ? s : pyStr(s);
}

/** A number from the graph as a Python literal (a non-finite one is a broken invariant: the compiler refuses them). */
export function pyNum(n: number): string {
  if (!Number.isFinite(n)) throw new TorchEmitError(`internal: the number ${n} has no Python literal`);
  return String(n);
}

/** A kernel, stride or dilation: one number when both are equal, else a pair. */
export const pair = (v: readonly number[]): string => (v[0] === v[1] ? pyNum(v[0]) : `(${pyNum(v[0])}, ${pyNum(v[1])})`);

/** An ASCII identifier that is not a keyword (so `name=` and `self.name` are valid Python). */
export const isIdent = (s: string): boolean => /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) && !PY_KEYWORDS.has(s);

/** A child module name usable as `self.name`: an identifier that no attribute of nn.Module has. */
export const safeAttr = (s: string): boolean => isIdent(s) && !MODULE_ATTRS.has(s) && !s.startsWith('_');

/** Reading a child module. */
export const attrGet = (name: string): string => (safeAttr(name) ? `self.${name}` : `self._modules[${pyStr(name)}]`);

/**
 * Setting a child module, as the text before and after its constructor: `self.name = ...`;
 * `add_module` for a name that cannot be an attribute (`block1-0`); `_modules[...]` for an
 * identifier that nn.Module already has as an attribute (`forward`, `training`), which add_module
 * refuses.
 */
export function attrSet(name: string): [before: string, after: string] {
  if (safeAttr(name)) return [`self.${name} = `, ''];
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return [`self._modules[${pyStr(name)}] = `, ''];
  return [`self.add_module(${pyStr(name)}, `, ')'];
}

/** Reading a grandchild and below: `self.a.b`, with `_modules[...]` for names that are not safe attributes. */
export function attrPath(segs: readonly string[]): string {
  return [attrGet(segs[0]), ...segs.slice(1).map((s) => (safeAttr(s) ? s : `_modules[${pyStr(s)}]`))].join('.');
}

/** A Python identifier from a name (for parameters): ASCII letters, digits and `_` only. */
export function ident(s: string): string {
  const t = s.replace(/[^A-Za-z0-9_]/g, '_');
  const u = /^[A-Za-z_]/.test(t) ? t : `_${t}`;
  return PY_KEYWORDS.has(u) ? `${u}_` : u;
}

/** A class name from a name: its ASCII words capitalised (layer_1 -> Layer1), `Net` first where it would start with a digit. */
export function camel(s: string): string {
  const parts = s.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const c = parts.map((p) => p[0].toUpperCase() + p.slice(1)).join('');
  return /^[A-Za-z]/.test(c) ? c : `Net${c}`;
}

/** Indents every line of a multi-line expression after the first. */
export const hang = (expr: string, by: string): string => expr.split('\n').join(`\n${by}`);
