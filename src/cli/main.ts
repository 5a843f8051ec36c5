import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { EXIT, InputError, processIo, shown, UsageError, type Io } from './io.js';
import { reportUnexpected } from './last_resort.js';
import { missingOptional, needPackage } from '../errors/optional.js';
import { displayName, locateArchitecture, shippedArchitecture } from '../parser/files.js';

type Register = (program: Command, io: Io, setExit: (code: number) => void) => void;

/**
 * Every command's module, in the order --help lists them. Only the named command's module is
 * imported (start-up is mostly module loading: `compile` need not load the exporters, the
 * playground server or the sweep); --help, no command or an unknown one loads them all.
 */
const LIGHT: Record<string, () => Promise<{ register: Register }>> = {
  compile: () => import('./commands/compile.js'),
  check: () => import('./commands/check.js'),
  list: () => import('./commands/list.js'),
  weights: () => import('./commands/weights.js'),
  fold: () => import('./commands/fold.js'),
  sweep: () => import('./commands/sweep.js'),
  infer: () => import('./commands/infer.js'),
  export: () => import('./commands/export.js'),
  playground: () => import('./commands/playground.js'),
};

/** Commands that load TensorFlow.js: imported only when they may run, so `compile` starts fast. */
const RUNTIME_COMMANDS = [() => import('./commands/train.js'), () => import('./commands/info.js')];
const LIGHT_COMMANDS = new Set(Object.keys(LIGHT));

/** Whether this command line may reach a runtime command (or list it, for help). */
function needsRuntime(argv: string[]): boolean {
  const args = argv.slice(2);
  const first = args.find((a) => !a.startsWith('-'));
  if (first !== undefined) return !LIGHT_COMMANDS.has(first);
  return args.length === 0 || args.includes('-h') || args.includes('--help');
}

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/**
 * The command line's program: every command and option. Commands that load TF.js are added only
 * when `argv` may reach them (`all` adds every command, for tests that walk the whole list:
 * test/cli/writers.test.ts checks each option that writes against src/cli/writes.ts).
 */
export async function buildProgram(argv: string[] | 'all', io: Io, setExit: (code: number) => void): Promise<Command> {
  const program = new Command()
    .name('skipgraph')
    .description('A declarative model-graph compiler for residual networks.')
    .version(pkg.version, '-v, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(shown(s.trimEnd())) })
    .showHelpAfterError('(run skipgraph --help for usage)');
  program.hook('preAction', (_, action) => noteShipped(action.args, io));
  // train imports TF.js only when it runs on the tfjs engine: `train --engine torch` never loads it.
  const named = argv === 'all' ? undefined : argv.slice(2).find((a) => !a.startsWith('-'));
  const runtimeNamed = named === 'train' || named === 'info';
  const light = named !== undefined && Object.hasOwn(LIGHT, named) ? [LIGHT[named]] : runtimeNamed ? [] : Object.values(LIGHT);
  for (const mod of await Promise.all(light.map((load) => load()))) mod.register(program, io, setExit);
  if (argv === 'all' || needsRuntime(argv)) for (const load of named === 'train' ? RUNTIME_COMMANDS.slice(0, 1) : RUNTIME_COMMANDS) (await load()).register(program, io, setExit);
  return program;
}

/**
 * Says which file a model name stood for when it was not a path that exists: the shipped model
 * (`skipgraph compile resnet50`) or a local resnet50.yaml that wins over it. On stderr, so the
 * output itself (a graph, JSON, a file) is the same either way.
 */
function noteShipped(args: readonly string[], io: Io): void {
  for (const arg of args) {
    const at = locateArchitecture(arg);
    if (at.shipped !== undefined) io.err(`note: ${shown(arg)} is skipgraph's shipped ${at.shipped} (${shown(displayName(at.path))})`);
    else if (at.local && shippedArchitecture(arg) !== undefined) io.err(`note: ${shown(arg)} is the local file ${shown(at.path)}, not the shipped model of that name`);
  }
}

/**
 * The skipgraph command line. Returns the exit code: 0 ok, 1 the input is wrong, 2 usage, 70 a
 * bug. Nothing prints a stack trace: a bug is "internal error, please report" (last_resort.ts).
 */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  let code: number = EXIT.ok;
  const setExit = (c: number) => {
    code = c;
  };
  const program = await buildProgram(argv, io, setExit);
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof UsageError) {
      io.err(`error: ${shown(err.message)}`);
      return EXIT.usage;
    }
    if (err instanceof InputError) {
      if (err.message) io.err(`error: ${shown(err.message)}`); // messages echo paths and values: escaped
      return EXIT.input;
    }
    const pkg = missingOptional(err); // an optional peer (TF.js, onnxruntime-node, ...) not installed
    if (pkg !== undefined) {
      const named = argv.slice(2).find((a) => !a.startsWith('-'));
      io.err(`error: ${shown(needPackage(pkg, named === undefined ? 'this command' : `skipgraph ${named}`).message)}`);
      return EXIT.input;
    }
    return reportUnexpected(err, argv, io); // the last resort: no stack trace, ever
  }
}
