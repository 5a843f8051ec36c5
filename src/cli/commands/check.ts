import type { Command } from 'commander';
import { compileFile } from '../../compiler/files.js';
import { collect, EXIT, printCompileProblems, type Io } from '../io.js';

/**
 * `check`: every check `compile` makes (YAML, extends, --set, schema, names, blocks, shapes, the
 * shortcut rule, limits), without printing the graph: a file `check` passes, `compile` accepts.
 */
export function register(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('check')
    .description('check an architecture file as compile does (schema, names, blocks, shapes, shortcuts, limits) without printing the graph')
    .argument('<file...>', 'architecture YAML file(s)')
    .option('--set <path=value>', 'override a value, e.g. stages.2.blocks=6 (repeatable)', collect)
    .option('--extends-root <dir>', 'folder that `extends` may not leave (default: the file\'s folder)')
    .action((files: string[], flags: { set?: string[]; extendsRoot?: string }) => {
      let bad = 0;
      for (const file of files) {
        const r = compileFile(file, { sets: flags.set, extendsRoot: flags.extendsRoot });
        printCompileProblems(io, r);
        if (r.graph) io.out(`${file}: ok (${r.graph.name}, ${r.graph.stages.length} stages, ${r.graph.nodes.length} nodes, ${r.graph.totals.trainableParams.toLocaleString('en-US')} trainable params)`);
        else bad++;
      }
      setExit(bad ? EXIT.input : EXIT.ok);
    });
}
