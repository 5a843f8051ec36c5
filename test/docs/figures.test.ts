/**
 * Test counts written in the docs stay true. A table row that names test files and says "N tests"
 * must name files holding exactly N tests, as vitest collects them (`vitest list`), so a file that
 * grows or shrinks fails here until its row is updated. (docs/reliability.md once said "20 tests"
 * for a file of 24.)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const DOCS = join(ROOT, 'docs');

interface Row {
  doc: string;
  line: number;
  /** Test files or folders the row names, relative to the repository. */
  paths: string[];
  count: number;
}

/** Table rows with test paths in backticks and an "N tests" figure. */
export function figureRows(doc: string, text: string): Row[] {
  return text.split('\n').flatMap((line, i) => {
    if (!line.startsWith('|')) return [];
    const count = /\b(\d[\d,]*) tests\b/.exec(line);
    const paths = [...line.matchAll(/\b(test\/[\w./-]+?)(?=[`\s])/g)].map((m) => m[1]).filter((p) => !p.includes('*'));
    if (!count || paths.length === 0) return [];
    return [{ doc, line: i + 1, paths: [...new Set(paths)], count: Number(count[1].replace(/,/g, '')) }];
  });
}

const rows = readdirSync(DOCS)
  .filter((f) => f.endsWith('.md'))
  .flatMap((f) => figureRows(`docs/${f}`, readFileSync(join(DOCS, f), 'utf8')));

describe('test counts in the docs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skipgraph-figures-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the rows it checks (the reader is not vacuous)', () => {
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(figureRows('x.md', '| Limits | `npx vitest run test/cli/limits.test.ts` | 12 tests | ~10 s |')).toEqual([
      { doc: 'x.md', line: 1, paths: ['test/cli/limits.test.ts'], count: 12 },
    ]);
  });

  it('each row says how many tests its files hold', () => {
    const all = [...new Set(rows.flatMap((r) => r.paths))];
    const out = join(dir, 'list.json');
    // One collection run for every named file (vitest list imports them but runs no test).
    execFileSync(process.execPath, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'list', `--json=${out}`, ...all], { cwd: ROOT, stdio: 'ignore', env: { ...process.env, CI: '1' } });
    const listed = (JSON.parse(readFileSync(out, 'utf8')) as { file: string }[]).map((t) => relative(ROOT, t.file));
    const countOf = (p: string) => listed.filter((f) => f === p || f.startsWith(p.replace(/\/?$/, '/'))).length;
    const wrong = rows
      .map((r) => ({ at: `${r.doc}:${r.line}`, paths: r.paths.join(' '), says: r.count, holds: r.paths.reduce((n, p) => n + countOf(p), 0) }))
      .filter((r) => r.says !== r.holds);
    expect(wrong).toEqual([]);
  });
});
