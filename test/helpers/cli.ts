import type { Io } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';

/** The real command line, in process: exit code and everything printed to stdout and stderr. */
export async function runCli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n'), color: false };
  const code = await main(['node', 'skipgraph', ...args], io);
  return { code, out, err };
}
