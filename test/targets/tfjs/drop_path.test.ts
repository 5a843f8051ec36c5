import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compiler/files.js';
import { buildModel } from '../../../src/targets/tfjs/build.js';
import { DropPath } from '../../../src/targets/tfjs/layers/index.js';

/** Stochastic depth in TF.js: tested against its definition in training mode, the identity at inference. */
describe('DropPath', () => {
  it('the layer: the identity at inference; in training each sample is kept whole (scaled by 1 / keep) or zeroed', async () => {
    await tf.setBackend('cpu');
    const layer = new DropPath({ name: 'dp', rate: 0.25 });
    const n = 4000;
    const x = tf.add(tf.ones([n, 2, 2, 3]), tf.randomUniform([n, 2, 2, 3]));
    const xs = x.arraySync() as number[][][][];
    expect(Array.from((layer.apply(x, { training: false }) as tf.Tensor).dataSync())).toEqual(Array.from(x.dataSync()));
    const y = (layer.apply(x, { training: true }) as tf.Tensor).arraySync() as number[][][][];
    let dropped = 0;
    for (let i = 0; i < n; i++) {
      const ratio = y[i].flat(2).map((v, k) => v / xs[i].flat(2)[k]);
      const r = ratio[0];
      expect(ratio.every((q) => Math.abs(q - r) < 1e-6)).toBe(true); // one mask per sample
      expect(Math.abs(r) < 1e-9 || Math.abs(r - 1 / 0.75) < 1e-5).toBe(true);
      if (Math.abs(r) < 1e-9) dropped++;
    }
    // Binomial(4000, 0.25): mean 1000, sd 27; 5 sd either side.
    expect(dropped).toBeGreaterThan(1000 - 137);
    expect(dropped).toBeLessThan(1000 + 137);
    tf.dispose(x);
  });

  it('a built model is the identity at inference: its outputs equal the same weights without drop_path', async () => {
    await tf.setBackend('cpu');
    const sets = ['input.height=32', 'input.width=32', 'classes=5'];
    const withDp = buildModel(compileFile('architectures/cifar_resnet20.yaml', { sets: [...sets, 'drop_path_rate=0.3'] }).graph!, { seed: 3, probe: false });
    const without = buildModel(compileFile('architectures/cifar_resnet20.yaml', { sets }).graph!, { seed: 3, probe: false });
    expect(withDp.layers.filter((l) => l instanceof DropPath).length).toBe(8);
    // Initialisation seeds follow node positions, which drop_path nodes shift: copy by name.
    for (const l of without.layers) if (l.getWeights().length) withDp.getLayer(l.name).setWeights(l.getWeights());
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 5);
    const a = (withDp.predict(x) as tf.Tensor).dataSync();
    const b = (without.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    withDp.dispose();
    without.dispose();
    x.dispose();
  });
});
