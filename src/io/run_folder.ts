/**
 * Training run folders belong to one engine. The TF.js engine and the torch engine write different
 * files into their --out (latest.json and checkpoints/ against checkpoint.pt and model.py), and a
 * run of one engine in the other's folder mixed them (the two used to share a default folder). A
 * run folder carries a marker, RUN_MARK, naming its engine; a folder made before the marker
 * existed is known by the files only one engine writes. The marker is read like any file from
 * elsewhere: a regular file (never a link, FIFO or device), at most OWN_PREFIX_BYTES.
 */
import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors/index.js';
import { OWN_PREFIX_BYTES, kindOf, planOutput, writeOutput } from './output_policy.js';
import { READ_FLAGS } from './safe_read.js';

export const ENGINES = ['tfjs', 'torch'] as const;
export type Engine = (typeof ENGINES)[number];

/** The marker file in a run folder: `{"skipgraph-run": ENGINE}`. */
export const RUN_MARK = '.skipgraph-run';

const ENGINE_NAMES: Record<Engine, string> = { tfjs: 'TF.js', torch: 'torch' };

/** Files only one engine writes, for folders older than the marker. */
const SIGNS: Record<Engine, readonly string[]> = {
  tfjs: ['latest.json', 'checkpoints', 'history.csv'],
  torch: ['checkpoint.pt', 'model.py', 'skipgraph_train.py', 'data.safetensors'],
};

/** The marker's engine, read from a bounded prefix of a regular file; a UserError for anything else there. */
function readMark(dir: string, flag: string): Engine | undefined {
  const path = join(dir, RUN_MARK);
  let seen;
  try {
    seen = lstatSync(path);
  } catch {
    return undefined;
  }
  if (!seen.isFile()) throw new UserError(`${flag} ${dir}: its ${RUN_MARK} is ${kindOf(seen)}, not skipgraph's marker; remove it, or choose another folder`);
  const fd = openSync(path, READ_FLAGS | (constants.O_NOFOLLOW ?? 0));
  try {
    const st = fstatSync(fd);
    const buf = Buffer.alloc(Math.min(OWN_PREFIX_BYTES, st.size));
    const text = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('utf8');
    const m = /^\{"skipgraph-run":"(\w+)"\}\s*$/.exec(text);
    if (m === null || !(ENGINES as readonly string[]).includes(m[1])) throw new UserError(`${flag} ${dir}: its ${RUN_MARK} is not skipgraph's marker; remove it, or choose another folder`);
    return m[1] as Engine;
  } finally {
    closeSync(fd);
  }
}

/** The engine whose run `dir` holds (marker first, then the files only one engine writes), and why. */
export function runOwner(dir: string, flag = '--out'): { engine: Engine; why: string } | undefined {
  const marked = readMark(dir, flag);
  if (marked !== undefined) return { engine: marked, why: RUN_MARK };
  for (const engine of ENGINES) {
    const found = SIGNS[engine].filter((f) => existsSync(join(dir, f)));
    if (found.length > 0) return { engine, why: found.join(', ') };
  }
  return undefined;
}

/** Refuses a folder that holds the other engine's run (with or without --force: the two cannot share one). */
export function checkRunFolder(dir: string, engine: Engine, flag = '--out'): void {
  const owner = runOwner(dir, flag);
  if (owner === undefined || owner.engine === engine) return;
  throw new UserError(
    `${flag} ${dir} holds a ${ENGINE_NAMES[owner.engine]} training run (${owner.why}); a ${ENGINE_NAMES[engine]} run cannot write into it: choose another --out (runs of the two engines never share a folder)`,
  );
}

/** Marks `dir` (which exists, checked by checkRunFolder) as `engine`'s run folder. */
export function markRunFolder(dir: string, engine: Engine, flag = '--out'): void {
  if (readMark(dir, flag) === engine) return;
  writeOutput(planOutput({ path: join(dir, RUN_MARK), flag, kind: 'run-marker' }), `{"skipgraph-run":"${engine}"}\n`);
}
