/**
 * A small saved model for the CLI tests that need one: the tiny_flatten architecture, a
 * state_dict of fresh weights (safetensors) and the TF.js model folder `weights import` makes of
 * it, written into `dir`.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { main } from '../../src/cli/main.js';
import { compileSource } from '../../src/compiler/files.js';
import { selectBackend } from '../../src/targets/tfjs/backend.js';
import { buildModel } from '../../src/targets/tfjs/build.js';
import { stateDictBytes } from '../../src/targets/tfjs/weights/index.js';
import { TINY_FLATTEN_YAML } from '../parity/fixtures.js';

export async function tinySavedModel(dir: string, seed = 1): Promise<{ arch: string; st: string; model: string }> {
  const files = { arch: join(dir, 'tiny.yaml'), st: join(dir, 'tiny.safetensors'), model: join(dir, 'tiny-model') };
  await selectBackend({ force: 'cpu' });
  writeFileSync(files.arch, TINY_FLATTEN_YAML);
  const g = compileSource(TINY_FLATTEN_YAML).graph!;
  const m = buildModel(g, { seed, probe: false });
  writeFileSync(files.st, stateDictBytes(m, g));
  m.dispose();
  let err = '';
  const code = await main(['node', 'skipgraph', 'weights', 'import', files.arch, '--from', files.st, '--out', files.model, '--backend', 'cpu'], { out: () => {}, err: (s) => void (err += s), color: false });
  if (code !== 0) throw new Error(`the tiny model did not import: ${err}`);
  return files;
}
