/**
 * README.md's "From code" example is run as written (through the built package, as a user imports
 * it) and must print what it promises: ResNet-50 on a 64x64 input.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileFile, formatTable } from '../../src/compiler/files.js';
import { ensureDist, repoRoot } from '../cli/bin.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

/** The first ```ts fence after "From code:". */
function fromCode(): string {
  const at = readme.indexOf('From code:');
  expect(at, 'README has a "From code:" section').toBeGreaterThan(0);
  return readme.slice(at).match(/```ts\n([\s\S]*?)```/)![1];
}

describe('README "From code"', () => {
  beforeAll(async () => {
    await ensureDist();
  }, 180_000);

  it('runs and prints ResNet-50 at 64x64 (every --set it needs is there)', () => {
    const file = join(repoRoot, 'test-output', 'readme-from-code.ts');
    mkdirSync(join(repoRoot, 'test-output'), { recursive: true });
    writeFileSync(file, fromCode());
    const out = execFileSync(process.execPath, ['--import', 'tsx', file], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out.split('\n')[0]).toBe('resnet50: input 64x64x3, 1000 classes');
    // The same table the API gives for the same sets.
    const g = compileFile(join(repoRoot, 'architectures/resnet50.yaml'), { sets: ['input.height=64', 'input.width=64'] }).graph!;
    expect(out.trimEnd()).toBe(formatTable(g));
  }, 60_000);

  it('the table excerpt shows the labels the table prints', () => {
    const g = compileFile(join(repoRoot, 'architectures/resnet18.yaml')).graph!;
    const table = formatTable(g).split('\n');
    const shown = readme.match(/\$ npx skipgraph compile architectures\/resnet18\.yaml\n([\s\S]*?)```/)![1].split('\n').filter((l) => l && l.trim() !== '...');
    for (const line of shown) expect(table, line).toContain(line);
  });
});
