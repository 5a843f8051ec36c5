/**
 * docs/training.md is kept true: its script is examples/train.ts verbatim (which
 * test/targets/tfjs/example.test.ts runs), its short snippets run and print what their comments say,
 * and it names every training export of skipgraph/runtime and every option of train().
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const md = readFileSync(join(ROOT, 'docs/training.md'), 'utf8');
const blocks = [...md.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);

/** Runs a snippet with its 'skipgraph/runtime' import pointed at the source tree. */
function runSnippet(code: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sg-training-doc-'));
  const file = join(dir, 'snippet.mts');
  writeFileSync(file, code.replace(/from 'skipgraph\/runtime'/g, `from '${join(ROOT, 'src/targets/tfjs/index.ts')}'`));
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SKIPGRAPH_BACKEND: 'wasm' }, timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('docs/training.md', () => {
  it('ends with examples/train.ts, verbatim', () => {
    expect(blocks[blocks.length - 1]).toBe(readFileSync(join(ROOT, 'examples/train.ts'), 'utf8'));
  });

  it('the DataLoader snippet prints the batches per epoch it says', () => {
    const code = blocks.find((b) => b.includes('new DataLoader('))!;
    expect(runSnippet(code).trim()).toBe('125');
  });

  it('the schedule snippet prints the rates it says', () => {
    const code = blocks.find((b) => b.includes('lrAt(schedule, 0)'))!;
    const [a, b, c] = runSnippet(code).trim().split(' ').map(Number);
    expect(a).toBeCloseTo(0.001, 12);
    expect(b).toBeCloseTo(0.1, 12);
    expect(c).toBeLessThan(1e-5);
  });

  it('the train() snippet uses only options train() has', () => {
    const options = readFileSync(join(ROOT, 'src/targets/tfjs/train/train.ts'), 'utf8').match(/export interface TrainOptions \{([\s\S]*?)\n\}/)![1];
    const keys = [...options.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1]);
    expect(keys.length).toBeGreaterThan(30);
    const used = [...blocks.find((b) => b.includes('await train({'))!.matchAll(/(\w+): /g)].map((m) => m[1]);
    for (const k of used) expect(keys).toContain(k);
    // and the page names every option
    for (const k of keys) expect(md, `TrainOptions.${k}`).toContain(`\`${k}\``);
  });

  it('documents every training export of skipgraph/runtime', () => {
    const index = readFileSync(join(ROOT, 'src/targets/tfjs/index.ts'), 'utf8');
    const names = [...index.matchAll(/export \{([^}]*)\} from '(?:\.\/|\.\.\/\.\.\/)(data\/index|data\/loader|train\/[a-z]+)\.js';/g)].flatMap((m) =>
      m[1].split(',').map((n) => n.trim().replace(/^type /, '')).filter((n) => n !== ''),
    );
    expect(names.length).toBeGreaterThan(60);
    const missing = names.filter((n) => !md.includes(`\`${n}\``) && !new RegExp(`\\b${n}\\(`).test(md) && !md.includes(`\`${n}(`) && !md.includes(`${n}(`));
    expect(missing).toEqual([]);
  });
});
