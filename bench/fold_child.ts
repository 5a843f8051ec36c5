/**
 * Inference folding: the plain emission of ResNet-18 (conv, batch norm and relu as separate
 * layers, inference mode) against its folded form (foldForInference: batch norm folded into the
 * conv, fused conv + bias + relu), same backend, same weights with non-trivial batch-norm
 * statistics. After one warm-up of each, --rounds rounds of A, B (order alternating): one
 * predict each. Prints the largest output difference (relative to the largest output) too.
 *
 *   node --import tsx bench/fold_child.ts --backend wasm --rounds 10 --size 32 --batch 32
 */
import * as tf from '@tensorflow/tfjs';
import { compileFile } from '../src/compiler/files.js';
import { selectBackend } from '../src/targets/tfjs/backend.js';
import { buildModel } from '../src/targets/tfjs/build.js';
import { foldForInference } from '../src/targets/tfjs/fold.js';
import { arch, argValue, emit } from './common.js';

const argv = process.argv.slice(2);
const backend = argValue(argv, '--backend', 'wasm')!;
const rounds = Number(argValue(argv, '--rounds', '10'));
const size = Number(argValue(argv, '--size', '32'));
const batch = Number(argValue(argv, '--batch', '32'));
const classes = size === 224 ? 1000 : 10;

await selectBackend({ force: backend, forceSource: '--backend' });
const r = compileFile(arch('resnet18'), { sets: [`input.height=${size}`, `input.width=${size}`, `classes=${classes}`] });
if (!r.graph) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
const plain = buildModel(r.graph, { seed: 1, probe: false });
// Trained-looking batch-norm statistics (the defaults 0 / 1 would fold to a near-identity).
for (const w of plain.weights) {
  const shape = w.shape as number[];
  if (w.originalName.endsWith('/moving_mean') || w.originalName.endsWith('/beta')) w.write(tf.randomUniform(shape, -0.5, 0.5, 'float32', 7));
  if (w.originalName.endsWith('/moving_variance')) w.write(tf.randomUniform(shape, 0.5, 2, 'float32', 8));
  if (w.originalName.endsWith('/gamma')) w.write(tf.randomUniform(shape, 0.5, 1.5, 'float32', 9));
}
const folded = foldForInference(plain, r.graph);
const x = tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', 3);

async function predict(model: tf.LayersModel): Promise<number> {
  const t0 = performance.now();
  const out = model.predict(x) as tf.Tensor;
  await out.data();
  out.dispose();
  return (performance.now() - t0) / 1000;
}
const [a, b] = [plain.predict(x) as tf.Tensor, folded.model.predict(x) as tf.Tensor];
const maxRelDiff = (await tf.max(tf.abs(tf.sub(a, b))).data())[0] / (await tf.max(tf.abs(a)).data())[0];
tf.dispose([a, b]);
await predict(plain); await predict(folded.model);
const res = { size, batch, plain: [] as number[], folded: [] as number[] };
for (let i = 0; i < rounds; i++) {
  const order = i % 2 === 0 ? ([['plain', plain], ['folded', folded.model]] as const) : ([['folded', folded.model], ['plain', plain]] as const);
  for (const [k, m] of order) res[k].push(await predict(m));
}
// Kernels per predict (op wrappers `*__op` left out: their kernels are counted) and, for the plain
// model, kernel time by kernel name: what folding can remove is the batch norm and relu share.
async function profile(m: tf.LayersModel) {
  const p = await tf.profile(() => { tf.tidy(() => { m.predict(x); }); });
  const kernels = p.kernels.filter((k) => !k.name.endsWith('__op'));
  const ms = new Map<string, number>();
  for (const k of kernels) ms.set(k.name, (ms.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  return { count: kernels.length, byName: [...ms].sort((a, b) => b[1] - a[1]).map(([name, t]) => ({ name, ms: t })) };
}
const [pp, pf] = [await profile(plain), await profile(folded.model)];
emit({
  backend: tf.getBackend(), maxRelDiff, params: folded.params, foldedConvs: folded.plan.convs.length,
  kernelsPerPredict: { plain: pp.count, folded: pf.count }, kernelMs: pp.byName.slice(0, 8), ...res,
});
