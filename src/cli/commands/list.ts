import type { Command } from 'commander';
import { compileFile, formatCount } from '../../compiler/files.js';
import { shippedModels } from '../../parser/files.js';
import { EXIT, type Io } from '../io.js';

/**
 * `list`: the models skipgraph ships, by the name every command takes (`skipgraph compile
 * resnet50`, `extends: resnet50`), with params and MACs at the file's own input size, and the
 * reference model each one equals (the file's `# equals:` line).
 */
export function register(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('list')
    .description('list the shipped models (compile, export, extends and the playground take them by name)')
    .action(() => {
      const rows = shippedModels().map((m) => {
        const g = compileFile(m.path).graph;
        const input = g ? `${g.input.height}x${g.input.width}x${g.input.channels}` : '?';
        return [m.name, input, g ? g.totals.trainableParams.toLocaleString('en-US') : 'does not compile', g ? formatCount(g.totals.macs) : '', m.equals];
      });
      const head = ['name', 'input', 'params', 'MACs', 'equals'];
      const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      const line = (r: string[]) => r.map((c, i) => (i === 2 || i === 3 ? c.padStart(width[i]) : i === r.length - 1 ? c : c.padEnd(width[i]))).join('  ');
      io.out(line(head));
      for (const r of rows) io.out(line(r));
      io.out(`${rows.length} models (params: trainable, as torchvision counts them; MACs at the input size shown). Use a name in place of a file: skipgraph compile resnet50; extends: resnet50.`);
      setExit(rows.some((r) => r[2] === 'does not compile') ? EXIT.input : EXIT.ok);
    });
}
