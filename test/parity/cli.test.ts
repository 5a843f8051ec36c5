/** `skipgraph weights import|check` through main(). */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { compileSource } from '../../src/compiler/files.js';
import { selectBackend } from '../../src/targets/tfjs/backend.js';
import { buildModel } from '../../src/targets/tfjs/build.js';
import { loadModel } from '../../src/targets/tfjs/io/model_files.js';
import { openSafetensors, serializeSafetensors, stateDictBytes } from '../../src/targets/tfjs/weights/index.js';
import { TINY_FLATTEN_YAML } from './fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'skipgraph-weights-cli-'));
const arch = join(tmp, 'tiny.yaml');
const good = join(tmp, 'good.safetensors');
let reference: tf.LayersModel;

beforeAll(async () => {
  await selectBackend({ force: 'cpu' });
  writeFileSync(arch, TINY_FLATTEN_YAML);
  const g = compileSource(TINY_FLATTEN_YAML).graph!;
  reference = buildModel(g, { seed: 11, probe: false });
  writeFileSync(good, stateDictBytes(reference, g));
});
afterAll(() => {
  reference.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

/** The real main(): exit code, stdout and stderr. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (s) => void (out += s + '\n'), err: (s) => void (err += s + '\n'), color: false };
  const code = await main(['node', 'skipgraph', ...argv], io);
  return { code, out, err };
}

describe('skipgraph weights', () => {
  it('check: a fitting file exits 0', async () => {
    const r = await cli('weights', 'check', arch, '--from', good);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(/good\.safetensors fits tiny_flatten: 43 tensors, every name and shape/);
  });

  it('import: writes model.json + weights.bin that load back and predict as the source model', async () => {
    const out = join(tmp, 'model');
    const r = await cli('weights', 'import', arch, '--from', good, '--out', out, '--backend', 'cpu');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^loaded 43 tensors \(4,997 values\) from .*good\.safetensors into tiny_flatten\nwrote .*model\.json and .*weights\.bin \(0\.0 MB\)/);
    const loaded = await loadModel(out); // the runtime's reader, as `skipgraph train`/`predict` use it
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 5);
    const want = (reference.predict(x) as tf.Tensor).dataSync();
    expect((loaded.predict(x) as tf.Tensor).dataSync()).toEqual(want);
    loaded.dispose();
  });

  it('export: the imported model\'s weights come back as the same state_dict, bit for bit', async () => {
    const out = join(tmp, 'model-rt');
    expect((await cli('weights', 'import', arch, '--from', good, '--out', out)).code).toBe(0);
    const back = join(tmp, 'back.safetensors');
    const r = await cli('weights', 'export', arch, '--model', out, '--out', back);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^wrote 43 tensors of tiny_flatten to .*back\.safetensors/);
    const [a, b] = [openSafetensors(good), openSafetensors(back)];
    expect([...b.header.tensors.keys()]).toEqual([...a.header.tensors.keys()]);
    for (const k of a.header.tensors.keys()) expect(Buffer.from(b.raw(k)).equals(Buffer.from(a.raw(k))), k).toBe(true);
    a.close();
    b.close();
    // A model of another architecture is refused, naming the layers it lacks.
    const wrong = join(tmp, 'wrong.yaml');
    writeFileSync(wrong, TINY_FLATTEN_YAML.replace('blocks: 2', 'blocks: 3'));
    const w = await cli('weights', 'export', wrong, '--model', out, '--out', join(tmp, 'never.safetensors'));
    expect(w.code).toBe(1);
    expect(w.err).toMatch(/error: the model in .*model-rt is not tiny_flatten: it has no layer layer1\.2\.conv1, /);
  });

  it('import: a file that does not fit exits 1 listing every offender, and writes nothing', async () => {
    const bad = join(tmp, 'bad.safetensors');
    writeFileSync(bad, serializeSafetensors({ 'conv1.weight': { shape: [8, 3, 3, 3], data: new Float32Array(216) }, 'extra.weight': { shape: [1], data: new Float32Array(1) } }));
    const r = await cli('weights', 'import', arch, '--from', bad, '--out', join(tmp, 'never'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error: .*bad\.safetensors does not fit tiny_flatten:\n {2}42 tensors missing:\n {4}conv1\.bias \[8\]\n/);
    expect(r.err).toMatch(/ {2}1 unexpected tensor:\n {4}extra\.weight \[1\] F32/);
    expect(() => readFileSync(join(tmp, 'never', 'model.json'))).toThrow();
  });

  it('a file that is not safetensors, or is absent, exits 1 with the reason', async () => {
    const junk = join(tmp, 'junk.safetensors');
    writeFileSync(junk, 'PK\u0003\u0004 this is a zip, as torch.save writes');
    let r = await cli('weights', 'check', arch, '--from', junk);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/junk\.safetensors: not a valid safetensors file: header length \d+ (is over the limit|runs past the end)/);
    r = await cli('weights', 'check', arch, '--from', join(tmp, 'absent.safetensors'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot open .*absent\.safetensors: ENOENT/);
  });

  it('a broken architecture exits 1 with its diagnostics; a missing --from is a usage error', async () => {
    const broken = join(tmp, 'broken.yaml');
    writeFileSync(broken, 'name: x\ninput: { height: 8 }\n');
    const r = await cli('weights', 'check', broken, '--from', good);
    expect(r.code).toBe(1);
    expect(r.err).not.toBe('');
    expect((await cli('weights', 'import', arch, '--out', tmp)).code).toBe(2);
  });
});
