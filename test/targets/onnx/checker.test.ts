/**
 * The ONNX checker (Debian's python3-onnx, onnx.checker.check_model with full_check=True: the
 * schema of every node and shape inference through the graph) passes on the export of every
 * file in architectures/ at a small input, plain (and folded up to ResNet-18's size), and of 200
 * random architectures from the property generator, every other one folded. All files go
 * through one Python process. The default slice leaves out the three files over 30M parameters
 * (resnet101, resnet152, wide_resnet50_2: resnet50's blocks, more or wider, and 0.7 GB of
 * weights to write and parse); SKIPGRAPH_ONNX_FULL=1 checks them too. Without python3-onnx the
 * suite skips, saying why in one line.
 */
import fc from 'fast-check';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../../helpers/require.js';
import { compileSource } from '../../../src/compiler/files.js';
import { exportOnnx, paramSpecs, torchvisionInit } from '../../../src/targets/onnx/index.js';
import { archArb, runs, SEED, toYaml } from '../../property/arch.js';
import { checkerMissing, compileSmall, MIXED_YAML, runChecker } from './helpers.js';

const missing = checkerMissing();
const dir = mkdtempSync(join(tmpdir(), 'skipgraph-onnx-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RANDOM = runs(200);
const FULL = process.env.SKIPGRAPH_ONNX_FULL === '1';

describe.skipIf(skipWithout('onnx checker', missing))('onnx.checker.check_model(full_check=True)', () => {
  it(`${FULL ? 'every file' : 'every file up to 30M parameters'} in architectures/ (plain; --fold up to ResNet-18's size), a mixed file, and ${RANDOM} random architectures (seed ${SEED})`, () => {
    const files: string[] = [];
    for (const f of readdirSync('architectures').filter((f) => f.endsWith('.yaml')).sort()) {
      const graph = compileSmall(f.slice(0, -5));
      if (!FULL && graph.totals.params > 30_000_000) continue;
      // The values do not matter to the checker: zeros of the right shapes (the big files stay cheap).
      const zeros = new Map(paramSpecs(graph).map((s) => [s.key, new Float32Array(s.shape.reduce((a, b) => a * b, 1))]));
      // Folded too where the file is small (random architectures below are folded every other one).
      for (const fold of graph.totals.params <= 12_000_000 ? [false, true] : [false]) {
        const path = join(dir, `${f.slice(0, -5)}${fold ? '.folded' : ''}.onnx`);
        writeFileSync(path, exportOnnx(graph, zeros, { fold }).bytes);
        files.push(path);
      }
    }
    const mixed = compileSource(MIXED_YAML, { file: 'mixed.yaml' }).graph!;
    writeFileSync(join(dir, 'mixed.onnx'), exportOnnx(mixed, torchvisionInit(mixed, 1)).bytes);
    files.push(join(dir, 'mixed.onnx'));
    let random = 0;
    for (const [i, text] of fc.sample(archArb.map(toYaml), { numRuns: RANDOM * 2, seed: SEED }).entries()) {
      if (random === RANDOM) break;
      const r = compileSource(text, { file: `random-${i}.yaml` });
      if (r.graph === undefined || r.graph.totals.params > 2_000_000) continue;
      const path = join(dir, `random-${i}.onnx`);
      writeFileSync(path, exportOnnx(r.graph, torchvisionInit(r.graph, i), { fold: i % 2 === 1 }).bytes);
      files.push(path);
      random++;
    }
    expect(random).toBe(RANDOM);
    const results = runChecker(files);
    expect(results.size).toBe(files.length);
    const failed = [...results].filter(([, v]) => v !== 'ok');
    expect(failed).toEqual([]);
  }, FULL ? 900_000 : 300_000);

  it('the checker does fail a broken model (an op ONNX does not have)', () => {
    const graph = compileSmall('cifar_resnet20');
    const bytes = exportOnnx(graph, torchvisionInit(graph, 0)).bytes;
    // Re-encode with a wrong attribute through the same protobuf bindings.
    return import('../../../src/targets/onnx/index.js').then(({ decodeModel, encodeModel }) => {
      const m = decodeModel(bytes);
      const conv = m.graph.node.find((n) => n.op_type === 'Conv')!;
      conv.op_type = 'Conv2D';
      const path = join(dir, 'broken.onnx');
      writeFileSync(path, encodeModel(m));
      const r = runChecker([path]).get(path)!;
      expect(r).not.toBe('ok');
    });
  });
});
