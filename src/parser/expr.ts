/**
 * The tiny arithmetic language of user-defined blocks: `$channels * 4`, `$width // $groups`,
 * `max(8, $channels // 16)`. Written by hand on purpose: a YAML value must never reach `eval` or
 * `Function`, and this grammar is ten lines. Only numbers, `$names`, + - * / // %, parentheses,
 * min(), max(), ceil() and make_divisible() exist; nothing else parses.
 */

/** The functions, with how many arguments each takes (min and max: one or more). */
const FUNCTIONS = { min: 0, max: 0, ceil: 1, make_divisible: 2 } as const;
type Fn = keyof typeof FUNCTIONS;

/**
 * torchvision's _make_divisible(v, divisor) (MobileNet, EfficientNet, RegNet): the nearest
 * multiple of `divisor`, at least `divisor`, and never more than 10% below `v`.
 */
export function makeDivisible(v: number, divisor: number): number {
  let out = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (out < 0.9 * v) out += divisor;
  return out;
}
export type Expr =
  | { kind: 'num'; value: number; at: number }
  | { kind: 'param'; name: string; at: number }
  | { kind: 'neg'; arg: Expr; at: number }
  | { kind: 'bin'; op: '+' | '-' | '*' | '/' | '//' | '%'; left: Expr; right: Expr; at: number }
  | { kind: 'call'; fn: Fn; args: Expr[]; at: number };

export interface ExprError {
  /** 0-based offset into the expression text. */
  at: number;
  message: string;
}

export const MAX_EXPR_LENGTH = 256;
const MAX_EXPR_DEPTH = 32;
/** Results beyond this are refused as overflow: no layer size or count gets near it. */
export const MAX_EXPR_VALUE = 2 ** 31;

type Tok = { t: 'num' | 'param' | 'ident' | 'op' | 'end'; v: string; at: number };

function lex(src: string): Tok[] | ExprError {
  const out: Tok[] = [];
  const re = /\s*(?:(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\$([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*)|(\/\/|[-+*/%(),]))/y;
  let i = 0;
  while (i < src.length) {
    if (/^\s*$/.test(src.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(src);
    if (!m) {
      const at = i + (src.slice(i).length - src.slice(i).trimStart().length);
      return { at, message: `unexpected character "${src[at]}"` };
    }
    const at = m.index + m[0].length - m[0].trimStart().length;
    if (m[1] !== undefined) out.push({ t: 'num', v: m[1], at });
    else if (m[2] !== undefined) out.push({ t: 'param', v: m[2], at });
    else if (m[3] !== undefined) out.push({ t: 'ident', v: m[3], at });
    else out.push({ t: 'op', v: m[4], at });
    i = re.lastIndex;
  }
  out.push({ t: 'end', v: '', at: src.length });
  return out;
}

/** Parses an expression; the leading `$` of the first name is part of the text, as in YAML. */
export function parseExpr(src: string): Expr | ExprError {
  if (src.length > MAX_EXPR_LENGTH) return { at: 0, message: `expression longer than ${MAX_EXPR_LENGTH} characters` };
  const lexed = lex(src);
  if (!Array.isArray(lexed)) return lexed;
  const toks: Tok[] = lexed;
  let p = 0;
  let depth = 0;
  const peek = () => toks[p];
  const fail = (message: string, at = peek().at): never => {
    throw { at, message } satisfies ExprError;
  };
  const expect = (v: string) => (peek().v === v && peek().t === 'op' ? toks[p++] : fail(`expected "${v}"`));

  function expr(): Expr {
    if (++depth > MAX_EXPR_DEPTH) fail('expression nests too deeply');
    let left = term();
    while (peek().t === 'op' && (peek().v === '+' || peek().v === '-')) {
      const op = toks[p++];
      left = { kind: 'bin', op: op.v as '+' | '-', left, right: term(), at: op.at };
    }
    depth--;
    return left;
  }
  function term(): Expr {
    let left = unary();
    while (peek().t === 'op' && ['*', '/', '//', '%'].includes(peek().v)) {
      const op = toks[p++];
      left = { kind: 'bin', op: op.v as '*' | '/' | '//' | '%', left, right: unary(), at: op.at };
    }
    return left;
  }
  function unary(): Expr {
    const t = peek();
    if (t.t === 'op' && t.v === '-') {
      p++;
      if (++depth > MAX_EXPR_DEPTH) fail('expression nests too deeply');
      const arg = unary();
      depth--;
      return { kind: 'neg', arg, at: t.at };
    }
    return primary();
  }
  function primary(): Expr {
    const t = toks[p++];
    if (t.t === 'num') return { kind: 'num', value: Number(t.v), at: t.at };
    if (t.t === 'param') return { kind: 'param', name: t.v, at: t.at };
    if (t.t === 'ident') {
      if (!Object.hasOwn(FUNCTIONS, t.v)) fail(`unknown name "${t.v}" (parameters start with $; functions are min, max, ceil and make_divisible)`, t.at);
      expect('(');
      const args = [expr()];
      while (peek().t === 'op' && peek().v === ',') {
        p++;
        args.push(expr());
      }
      expect(')');
      const arity = FUNCTIONS[t.v as Fn];
      if (arity && args.length !== arity) fail(`${t.v}() takes ${arity} argument${arity > 1 ? 's' : ''}, not ${args.length}`, t.at);
      return { kind: 'call', fn: t.v as Fn, args, at: t.at };
    }
    if (t.t === 'op' && t.v === '(') {
      const e = expr();
      expect(')');
      return e;
    }
    return fail(t.t === 'end' ? 'expression ends too early' : `unexpected "${t.v}"`, t.at);
  }

  try {
    const e = expr();
    if (peek().t !== 'end') fail(`unexpected "${peek().v}"`);
    return e;
  } catch (err) {
    if (err && typeof err === 'object' && 'at' in err) return err as ExprError;
    throw err;
  }
}

export function isExprError(x: Expr | ExprError): x is ExprError {
  return 'message' in x && !('kind' in x);
}

/** Names of the `$parameters` an expression uses. */
export function exprParams(e: Expr, out = new Set<string>()): Set<string> {
  switch (e.kind) {
    case 'param':
      out.add(e.name);
      break;
    case 'neg':
      exprParams(e.arg, out);
      break;
    case 'bin':
      exprParams(e.left, out);
      exprParams(e.right, out);
      break;
    case 'call':
      e.args.forEach((a) => exprParams(a, out));
      break;
  }
  return out;
}

export type EvalError = { at: number; code: 'expr-unknown-param' | 'expr-divide-by-zero' | 'expr-overflow'; message: string; param?: string };

/** Evaluates with the given parameter values; every failure is returned, never thrown. */
export function evaluate(e: Expr, env: ReadonlyMap<string, number>): number | EvalError {
  const check = (v: number, at: number): number | EvalError =>
    Number.isFinite(v) && Math.abs(v) <= MAX_EXPR_VALUE ? v : { at, code: 'expr-overflow', message: `the result ${v} is beyond ±${MAX_EXPR_VALUE}` };
  switch (e.kind) {
    case 'num':
      return check(e.value, e.at);
    case 'param': {
      const v = env.get(e.name);
      return v === undefined ? { at: e.at, code: 'expr-unknown-param', message: `unknown parameter "$${e.name}"`, param: e.name } : v;
    }
    case 'neg': {
      const v = evaluate(e.arg, env);
      return typeof v === 'number' ? -v : v;
    }
    case 'call': {
      const vs: number[] = [];
      for (const a of e.args) {
        const v = evaluate(a, env);
        if (typeof v !== 'number') return v;
        vs.push(v);
      }
      if (e.fn === 'ceil') return check(Math.ceil(vs[0]), e.at);
      if (e.fn === 'make_divisible') return vs[1] <= 0 ? { at: e.at, code: 'expr-divide-by-zero', message: 'make_divisible needs a divisor above 0' } : check(makeDivisible(vs[0], vs[1]), e.at);
      // A fold, not Math.min(...vs): a call with 200,000 arguments would overflow the stack.
      return vs.reduce((a, b) => (e.fn === 'min' ? Math.min(a, b) : Math.max(a, b)));
    }
    case 'bin': {
      const l = evaluate(e.left, env);
      if (typeof l !== 'number') return l;
      const r = evaluate(e.right, env);
      if (typeof r !== 'number') return r;
      if ((e.op === '/' || e.op === '//' || e.op === '%') && r === 0) return { at: e.at, code: 'expr-divide-by-zero', message: 'division by zero' };
      const v = e.op === '+' ? l + r : e.op === '-' ? l - r : e.op === '*' ? l * r : e.op === '/' ? l / r : e.op === '//' ? Math.floor(l / r) : l - r * Math.floor(l / r);
      return check(v, e.at);
    }
  }
}
