/**
 * No path from a YAML value to code or to files the user did not name (issue 5):
 * - src/ has no eval, no Function constructor, no vm, no dynamic import/require of a computed
 *   specifier (one reviewed exception in the runtime, below), and only three parser files touch fs;
 * - `extends` resolves against the including file, refuses absolute paths, `..` out of the root
 *   folder and symlinks that lead out of it, and never opens a refused file;
 * - `__proto__`/`constructor`/`prototype` keys never reach an object's prototype.
 * docs/reliability.md describes the rules these tests hold in place.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFile, compileSource } from '../../src/compiler/files.js';
import { parseArchitecture, parseExpr } from '../../src/parser/files.js';
import { ensureDist, repoRoot, runBin, STACK_FRAME } from './bin.js';

const srcFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? srcFiles(join(dir, e.name)) : /\.(ts|js|mjs|cjs)$/.test(e.name) ? [join(dir, e.name)] : []));

/** Source without comments (so "never reach `eval`" in a comment is not a hit). */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');

const DANGEROUS: [string, RegExp][] = [
  ['eval', /(^|[^.\w$])eval\s*\(/],
  ['the Function constructor', /\bnew\s+Function\b|(^|[^.\w$])Function\s*\(/],
  ['node:vm', /['"](node:)?vm['"]/],
  ['child_process', /['"](node:)?child_process['"]/],
  ['dynamic import of a computed specifier', /\bimport\s*\(\s*(?!['"`][^'"`$]*['"`]\s*\))/],
  ['require of a computed specifier', /(^|[^.\w$])require\s*\(\s*(?!['"][^'"]*['"]\s*\))/],
  ['setTimeout/setInterval with a string', /\bset(Timeout|Interval)\s*\(\s*['"`]/],
];

/**
 * Reviewed exceptions: file (relative to the repo) and the exact line. Each must still exist, so a
 * stale entry is noticed.
 */
const ALLOWED = [
  {
    file: 'src/targets/tfjs/backend.ts',
    line: 'await import(specifier);',
    why: 'loads an optional TF.js backend package; the specifier comes from the constant CANDIDATES list (--backend picks among fixed names), never from YAML',
  },
  {
    file: 'src/targets/tfjs/backends/webgpu_dawn.ts',
    line: 'return (await import(specifier)) as T;',
    why: "loads the optional 'webgpu' and '@tensorflow/tfjs-backend-webgpu' packages; every caller passes one of those literals",
  },
  {
    file: 'src/targets/torch/train.ts',
    line: "import { spawn, spawnSync } from 'node:child_process';",
    why: 'train --engine torch runs the shipped python/skipgraph_train.py with the interpreter of SKIPGRAPH_PYTHON (else /usr/bin/python3 or python3), argv as an array (no shell); the YAML only reaches the emitted module file, which is data written by the emitter',
  },
  {
    file: 'src/targets/torch/python_source.ts',
    line: "if ((m = /^from \\S+ import (.*)$/.exec(flat))) return { kind: 'import', names: importNames(m[1], false) };",
    why: "a regular expression that reads Python's `from X import ...` lines of the emitted module (text), not a JavaScript import",
  },
  {
    file: 'src/targets/torch/python_source.ts',
    line: "if ((m = /^import (.*)$/.exec(flat))) return { kind: 'import', names: importNames(m[1], true) };",
    why: "a regular expression that reads Python's `import ...` lines of the emitted module (text), not a JavaScript import",
  },
  {
    file: 'src/targets/torch/tree.ts',
    line: 'if (held !== undefined) throw new TorchEmitError(`the node name ${JSON.stringify(node.id)} cannot be a PyTorch module name: every nn.Module sets its own attribute "${held}" (train() and eval() do), so a child module of that name breaks them; rename it`, at);',
    why: 'the words "eval()" inside an error message (PyTorch\'s nn.Module.eval), not a call',
  },
];

describe('no code execution or computed module loading in src/', () => {
  it('has no eval, Function, vm, child_process or computed import/require', () => {
    const hits: string[] = [];
    for (const f of srcFiles(join(repoRoot, 'src'))) {
      const rel = relative(repoRoot, f);
      code(readFileSync(f, 'utf8'))
        .split('\n')
        .forEach((line, i) => {
          for (const [what, re] of DANGEROUS) {
            if (!re.test(line)) continue;
            if (ALLOWED.some((a) => a.file === rel && line.trim() === a.line)) continue;
            hits.push(`${rel}:${i + 1}: ${what}: ${line.trim()}`);
          }
        });
    }
    expect(hits).toEqual([]);
  });

  it('the reviewed exceptions still exist (remove stale ones)', () => {
    for (const a of ALLOWED) {
      let text = '';
      try {
        text = readFileSync(join(repoRoot, a.file), 'utf8');
      } catch {
        continue; // the file is gone: the exception no longer matters
      }
      expect(text.split('\n').some((l) => l.trim() === a.line), `${a.file}: "${a.line}"`).toBe(true);
    }
  });

  it('the patterns catch what they are for', () => {
    const caught = (line: string) => DANGEROUS.some(([, re]) => re.test(code(line)));
    for (const bad of ['eval(x)', 'const f = new Function("return 1")', 'Function("x")()', "import vm from 'node:vm'", 'await import(name)', 'await import(`./${x}.js`)', 'require(p)', "require('a' + b)", 'setTimeout("alert(1)", 1)'])
      expect(caught(bad), bad).toBe(true);
    for (const ok of ["await import('./x.js')", "import('../../runtime/build.js'),", 'evaluate(e, env)', '// never reach eval( here', 'x.eval(1)', "createRequire(import.meta.url).resolve(pkg)"])
      expect(caught(ok), ok).toBe(false);
  });

  it('only the named file, the schema and checked `extends` paths are read (fs use in parser/compiler)', () => {
    const users = [...srcFiles(join(repoRoot, 'src/parser')), ...srcFiles(join(repoRoot, 'src/compiler'))]
      .filter((f) => /from 'node:fs'|from 'fs'|require\('(node:)?fs'\)/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(repoRoot, f))
      .sort();
    // files.ts, the one file of parser and compiler that opens files: parseFile reads the path the
    // user named, compose.ts's `extends` the bases, after the checks tested below (the schema comes
    // with the generated validator). A new entry needs the same review.
    expect(users).toEqual(['src/parser/files.ts']);
  });

  it('expressions are parsed by hand: names other than $params, min and max do not parse', () => {
    for (const e of ['constructor', '$x.constructor', 'process.exit(1)', '$a; $b', "require('fs')", '$a[0]', '`$a`', '$a = 1', 'this']) {
      expect('message' in (parseExpr(e) as object), e).toBe(true);
    }
  });
});

describe('`extends` stays inside the root folder', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'skipgraph-extends-'));
  const base = readFileSync(join(repoRoot, 'architectures/cifar_resnet20.yaml'), 'utf8');
  const rootDir = join(tmp, 'root');
  mkdirSync(join(rootDir, 'sub/deeper'), { recursive: true });
  mkdirSync(join(tmp, 'outside'), { recursive: true });
  writeFileSync(join(tmp, 'outside/base.yaml'), base);
  writeFileSync(join(tmp, 'sibling.yaml'), base);
  writeFileSync(join(rootDir, 'base.yaml'), base);
  writeFileSync(join(rootDir, '..base.yaml'), base);
  writeFileSync(join(rootDir, 'sub/base.yaml'), base.replace('name: cifar_resnet20', 'name: sub_base'));
  writeFileSync(join(rootDir, 'sub/mid.yaml'), 'extends: base.yaml\nname: mid\n');
  symlinkSync(join(tmp, 'outside/base.yaml'), join(rootDir, 'link.yaml'));
  symlinkSync(join(tmp, 'outside'), join(rootDir, 'linkdir'));
  symlinkSync(join(rootDir, 'base.yaml'), join(rootDir, 'inner-link.yaml'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  /** Parses `extends: target` as if written in root/top.yaml, recording every file opened. */
  const tryExtends = (target: string, extendsRoot?: string) => {
    const opened: string[] = [];
    const r = parseArchitecture(`extends: ${JSON.stringify(target)}\nname: top\n`, {
      file: join(rootDir, 'top.yaml'),
      extendsRoot,
      readFile: (p) => {
        opened.push(p);
        return readFileSync(p);
      },
    });
    return { codes: r.diagnostics.map((d) => d.code), name: r.ast?.name, opened, r };
  };

  it.each([
    ['/etc/passwd.yaml', 'an absolute path'],
    [join(tmp, 'outside/base.yaml'), 'an absolute path to a real file'],
    ['../sibling.yaml', '.. to a real file one level up'],
    ['../../../../../../etc/x.yaml', '.. far up'],
    ['sub/../../sibling.yaml', 'a path that dips in and climbs out'],
    ['link.yaml', 'a symlink to a file outside'],
    ['linkdir/base.yaml', 'a file under a symlinked folder outside'],
  ])('refuses %s (%s) without opening it', (target) => {
    const t = tryExtends(target);
    expect(t.codes).toEqual(['extends-outside']);
    expect(t.opened).toEqual([]);
    expect(t.r.diagnostics[0].loc).toMatchObject({ line: 1, col: 10 });
  });

  it.each([
    ['base.yaml', 'cifar_resnet20'],
    ['./sub/../base.yaml', 'cifar_resnet20'],
    ['..base.yaml', 'cifar_resnet20'],
    ['inner-link.yaml', 'cifar_resnet20'],
  ])('accepts %s inside the folder', (target) => {
    const t = tryExtends(target);
    expect(t.codes).toEqual([]);
    expect(t.name).toBe('top');
    expect(t.opened).toHaveLength(1);
  });

  it('resolves relative to the including file, not the working folder', () => {
    // top.yaml -> sub/mid.yaml -> base.yaml, which is sub/base.yaml (next to mid.yaml), not root/base.yaml.
    const t = tryExtends('sub/mid.yaml');
    expect(t.codes).toEqual([]);
    expect(t.opened).toEqual([join(rootDir, 'sub/mid.yaml'), join(rootDir, 'sub/base.yaml')]);
  });

  it('--extends-root (the user naming a wider folder) is the only way up', () => {
    expect(tryExtends('../sibling.yaml', tmp).codes).toEqual([]);
    expect(tryExtends('../sibling.yaml', join(rootDir, 'sub')).codes).toEqual(['extends-outside']);
  });

  describe('through the real CLI', () => {
    beforeAll(async () => {
      await ensureDist();
    });
    it('refuses a symlink outside with exit 1 and accepts it with --extends-root', async () => {
      writeFileSync(join(rootDir, 'via-link.yaml'), 'extends: link.yaml\nname: via_link\n');
      const [bad, ok] = await Promise.all([runBin(['compile', join(rootDir, 'via-link.yaml')]), runBin(['check', join(rootDir, 'via-link.yaml'), '--extends-root', tmp])]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/via-link\.yaml:1:10: error\[extends-outside\]: "link\.yaml" links to a file outside/);
      expect(bad.stderr).not.toMatch(STACK_FRAME);
      expect(ok.code, ok.stderr).toBe(0);
    });
  });
});

describe('prototype keys', () => {
  it('never reach Object.prototype, through a file or --set', () => {
    const bad = join(repoRoot, 'test/corpus/bad');
    for (const f of ['security-proto-key.yaml', 'security-constructor-key.yaml', 'security-prototype-key.yaml']) {
      expect(compileFile(join(bad, f)).diagnostics.map((d) => d.code)).toContain('forbidden-key');
    }
    for (const s of ['__proto__.polluted=1', 'stages.0.__proto__=1', 'constructor.prototype.polluted=1', 'input.constructor=1']) {
      const r = compileFile(join(bad, 'security-set-proto.yaml'), { sets: [s] });
      expect(r.graph, s).toBeUndefined();
    }
    const text = readFileSync(join(repoRoot, 'architectures/resnet18.yaml'), 'utf8');
    compileSource(`${text}\nblocks: { b: { layers: [{ op: relu }], params: { __proto__: 1 } } }\n`);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
  });
});

describe('the last-resort handler (issue 19): no stack trace, ever', () => {
  const capture = (out: (s: string) => void) => {
    let err = '';
    return { io: { out, err: (s: string) => void (err += s + '\n'), color: false }, err: () => err };
  };
  const boom = () => {
    throw new TypeError('boom \u001b]0;TITLE\u0007');
  };

  it('a bug inside a command is "internal error, please report" with the command, exit 70, no stack', async () => {
    const { main } = await import('../../src/cli/main.js');
    const c = capture(boom);
    const code = await main(['node', 'skipgraph', 'check', 'architectures/resnet18.yaml'], c.io);
    expect(code).toBe(70);
    expect(c.err()).toMatch(/^internal error, please report: TypeError: boom \\u001b\]0;TITLE\\u0007\n {2}command: skipgraph check architectures\/resnet18\.yaml\n {2}skipgraph \S+, node v/);
    expect(c.err()).toMatch(/SKIPGRAPH_DEBUG=1/);
    expect(c.err()).not.toMatch(STACK_FRAME);
    expect(c.err()).not.toContain('\u001b'); // control characters escaped
  });

  it('SKIPGRAPH_DEBUG=1 shows the stack', async () => {
    const { main } = await import('../../src/cli/main.js');
    const c = capture(boom);
    process.env.SKIPGRAPH_DEBUG = '1';
    try {
      expect(await main(['node', 'skipgraph', 'check', 'architectures/resnet18.yaml'], c.io)).toBe(70);
    } finally {
      delete process.env.SKIPGRAPH_DEBUG;
    }
    expect(c.err()).toMatch(STACK_FRAME);
  });

  it('a file-system error that escapes a command is exit 1 with its reason (a full disk: ENOSPC)', async () => {
    const { reportUnexpected } = await import('../../src/cli/last_resort.js');
    const c = capture(() => {});
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write', path: '/mnt/out/weights.bin' });
    expect(reportUnexpected(enospc, ['node', 'skipgraph', 'train', 'x.yaml'], c.io)).toBe(1);
    expect(c.err()).toBe('error: cannot write /mnt/out/weights.bin: no space left on the device (ENOSPC)\n');
  });

  describe('through the real CLI', () => {
    beforeAll(async () => {
      await ensureDist();
    }, 300_000);

    it('an exception thrown later, past a handler that rethrows it (as TF.js wasm glue does), still ends in the handler: exit 70, no stack', async () => {
      // What bin/skipgraph.js does, then what Emscripten's glue does once the wasm backend loads.
      const script = [
        `const { installLastResort } = await import(${JSON.stringify(join(repoRoot, 'dist/cli/last_resort.js'))});`,
        `installLastResort(['node', 'skipgraph', 'train', 'x.yaml']);`,
        `process.on('uncaughtException', (e) => { throw e; });`,
        `setTimeout(() => { throw new RangeError('late'); }, 1);`,
      ].join('\n');
      const { spawnSync } = await import('node:child_process');
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
      expect(r.status).toBe(70);
      expect(r.stderr).toMatch(/^internal error, please report: RangeError: late\n {2}command: skipgraph train x\.yaml/);
      expect(r.stderr).not.toMatch(STACK_FRAME);
      const rejected = spawnSync(process.execPath, ['--input-type=module', '-e', script.replace("setTimeout(() => { throw new RangeError('late'); }, 1);", "Promise.reject(Object.assign(new Error('EROFS: read-only file system, open'), { code: 'EROFS', syscall: 'open', path: '/ro/x' }));")], { encoding: 'utf8' });
      expect(rejected.status).toBe(1);
      expect(rejected.stderr).toBe('error: cannot open /ro/x: the file system is read-only (EROFS)\n');
    });
  });
});
