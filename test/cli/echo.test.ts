/**
 * Control characters never reach the terminal raw (issue 22): when a command echoes an --out
 * name, a --grid value or any other user-given string, in a success line or in an error, each
 * control character is escaped by the one function diagnostics use (src/parser's escapeControl,
 * the CLI's `shown`). Every echo found is tried here with a name that holds ESC ] 0 ; ... BEL (which
 * retitles a terminal), a carriage return and U+202E (which reverses the text after it).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/io.js';
import { shown } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { escapeControl } from '../../src/parser/index.js';
import { tinySavedModel } from './tiny_model.js';

const tmp = mkdtempSync(join(tmpdir(), 'skipgraph-echo-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const EVIL = '\u001b]0;PWNED\u0007\r\u202e';
/** What a terminal acts on: C0 controls but the line break, DEL, C1 controls, bidirectional overrides. */
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const arch = join(tmp, 'tiny.yaml');
const model = join(tmp, 'tiny-model');
const st = join(tmp, 'tiny.safetensors');

async function run(...args: string[]): Promise<{ code: number; text: string }> {
  let text = '';
  const io: Io = { out: (s) => void (text += s + '\n'), err: (s) => void (text += s + '\n'), color: false };
  const code = await main(['node', 'skipgraph', ...args], io);
  return { code, text };
}

beforeAll(async () => {
  expect(await tinySavedModel(tmp)).toEqual({ arch, st, model });
}, 120_000);

describe('echoed names and values are escaped', () => {
  it('shown is escapeControl (one function for diagnostics and echoes)', () => {
    expect(shown(EVIL)).toBe(escapeControl(EVIL));
    expect(shown(EVIL)).toBe('\\x1b]0;PWNED\\x07\\x0d\\u202e');
  });

  const evil = (name: string) => join(tmp, `${name}${EVIL}`);
  const cases: [string, () => string[], RegExp][] = [
    ['export --target torch --out (success line)', () => ['export', arch, '--target', 'torch', '--out', evil('m.py')], /wrote .*m\.py\\x1b\]0;PWNED\\x07\\x0d\\u202e: tiny_flatten/],
    ['export --target onnx --out (success line)', () => ['export', arch, '--target', 'onnx', '--out', evil('m.onnx')], /wrote .*m\.onnx\\x1b\]0;PWNED/],
    ['export --out refused (error line)', () => ['export', arch, '--target', 'torch', '--out', join(evil('missing'), 'm.py')], /^error: cannot write --out .*missing\\x1b\]0;PWNED/m],
    ['weights export --out (success line)', () => ['weights', 'export', arch, '--model', model, '--out', evil('w2.safetensors')], /to .*w2\.safetensors\\x1b\]0;PWNED/],
    ['fold --out (success line)', () => ['fold', arch, '--model', model, '--out', evil('folded'), '--backend', 'cpu'], /wrote .*folded\\x1b\]0;PWNED.*\/model\.json/],
    ['weights import --out (success line)', () => ['weights', 'import', arch, '--from', st, '--out', evil('imported'), '--backend', 'cpu'], /wrote .*imported\\x1b\]0;PWNED/],
    ['infer --out refused (error line)', () => ['infer', model, '--runs', '0', '--backend', 'cpu', '--out', join(evil('nope'), 'o.safetensors')], /^error: cannot write --out .*nope\\x1b/m],
    ['sweep --plot (success line)', () => ['sweep', arch, '--grid', 'classes=3,4', '--plot', evil('p.svg')], /plot: .*p\.svg\\x1b\]0;PWNED/],
    ['sweep --emit (success line)', () => ['sweep', arch, '--grid', 'classes=3,4', '--emit', evil('variants')], /emitted 2 variant files in .*variants\\x1b\]0;PWNED/],
    ['sweep --grid value (table row)', () => ['sweep', arch, '--grid', `name=a${EVIL},b`], /a\\x1b\]0;PWNED\\x07\\x0d\\u202e/],
    ['sweep --grid value (csv)', () => ['sweep', arch, '--grid', `name=a${EVIL},b`, '-f', 'csv'], /a\\x1b\]0;PWNED/],
    ['sweep --grid without values (usage error)', () => ['sweep', arch, '--grid', `stages${EVIL}`], /^error: .*stages\\x1b\]0;PWNED/m],
    ['an unknown option (commander)', () => ['compile', arch, `--bad${EVIL}`], /bad\\x1b\]0;PWNED/],
    ['train --engine torch --prepare --out (success lines)', () => ['train', 'architectures/mnist_resnet.yaml', '--engine', 'torch', '--prepare', '--out', evil('run'), '--train-limit', '8', '--test-limit', '8'], /wrote .*run\\x1b\]0;PWNED.*model\.py/],
    ['train --out refused (error line)', () => ['train', 'architectures/mnist_resnet.yaml', '--out', join(arch, `x${EVIL}`), '--backend', 'cpu', '--no-progress'], /^error: cannot create --out .*x\\x1b\]0;PWNED/m],
  ];

  it.each(cases)('%s', async (_, args, expected) => {
    mkdirSync(tmp, { recursive: true });
    const r = await run(...args());
    expect(r.text).toMatch(expected);
    expect(r.text, r.text).not.toMatch(RAW);
  }, 120_000);
});
