import type { Command } from 'commander';
import { parseFile } from '../../parser/index.js';
import { collect, EXIT, printDiagnostics, type Io } from '../io.js';

/** `check`: parse and validate only (YAML, extends, --set, schema, names); no shapes. */
export function register(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('check')
    .description('parse and validate an architecture file against the schema (no compilation)')
    .argument('<file...>', 'architecture YAML file(s)')
    .option('--set <path=value>', 'override a value, e.g. stages.2.blocks=6 (repeatable)', collect)
    .option('--extends-root <dir>', 'folder that `extends` may not leave (default: the file\'s folder)')
    .action((files: string[], flags: { set?: string[]; extendsRoot?: string }) => {
      let bad = 0;
      for (const file of files) {
        const r = parseFile(file, { sets: flags.set, extendsRoot: flags.extendsRoot });
        printDiagnostics(io, r.diagnostics, r.sources, r.dropped);
        if (r.ast) io.out(`${file}: ok (${r.ast.name}, ${r.ast.stages.length} stages)`);
        else bad++;
      }
      setExit(bad ? EXIT.input : EXIT.ok);
    });
}
