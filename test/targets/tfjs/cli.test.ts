import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { EXIT } from '../../../src/cli/io.js';

const run = runCli;

describe('skipgraph info', () => {
  it('names the backend that runs and why the better ones are absent', async () => {
    const r = await run('info');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^tfjs 4\.22\.0, node /m);
    expect(r.out).toMatch(/^backend: (wasm|node|node-gpu) /m);
    if (r.out.includes('backend: wasm')) {
      expect(r.out).toMatch(/not node-gpu: @tensorflow\/tfjs-node-gpu (is not installed|failed to load)/);
      expect(r.out).toMatch(/composed kernels: Conv2DBackpropFilter, Conv2DBackpropInput/);
    }
  });

  it('--backend cpu forces cpu and says so', async () => {
    const r = await run('info', '--backend', 'cpu');
    expect(r.out).toMatch(/backend: cpu .* forced by --backend/);
    expect(r.out).toMatch(/not wasm: not tried: --backend forces 'cpu'/);
    await run('info', '--backend', 'wasm'); // leave the suite on wasm
  });

  it('an unknown or absent backend is an input error, without a stack', async () => {
    const r = await run('info', '--backend', 'tpu');
    expect(r.code).toBe(EXIT.input);
    expect(r.err).toMatch(/unknown backend 'tpu' \(from --backend\); choose one of: node-gpu, .*wasm, cpu/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});

describe('skipgraph train', () => {
  it('trains, validates, checkpoints and reports', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sg-cli-')), 'run');
    const r = await run('train', 'architectures/mnist_resnet.yaml', '--epochs', '1', '--train-limit', '128', '--test-limit', '64', '--out', out, '--backend', 'wasm', '--no-progress');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^backend: wasm .*forced by --backend/m);
    expect(r.out).toMatch(/^epoch 1\/1: loss \d+\.\d{4} acc [\d.]+% \| held-out loss [\d.]+ acc [\d.]+% top-5 [\d.]+% \| [\d.]+ s, \d+ img\/s$/m);
    expect(r.out).toMatch(/held-out accuracy [\d.]+% after 1 epoch .* on wasm\); model: .*model\.json/);
    expect(existsSync(join(out, 'model.json'))).toBe(true);
    expect(existsSync(join(out, 'latest.json'))).toBe(true);
    const again = await run('train', 'architectures/mnist_resnet.yaml', '--epochs', '2', '--train-limit', '128', '--test-limit', '64', '--out', out, '--backend', 'wasm', '--no-progress', '--resume');
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/resuming from .*epoch-0001 after epoch 1/);
    expect(again.out).toMatch(/^epoch 2\/2: /m);
  });

  it('user errors exit 1 with a clear message and no stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [['train', 'architectures/missing.yaml', '--backend', 'wasm'], /missing\.yaml/],
      [['train', 'architectures/resnet18.yaml', '--backend', 'wasm'], /takes 224x224x3 images and 1000 classes, but mnist has 28x28x1 and 10/],
      [['train', 'architectures/mnist_resnet.yaml', '--data', 'svhn', '--backend', 'wasm'], /unknown data set 'svhn'/],
      [['train', 'architectures/mnist_resnet.yaml', '--data', 'cifar10-bin:/no/such/dir', '--backend', 'wasm'], /CIFAR-10 folder not found/],
    ];
    for (const [args, message] of cases) {
      const r = await run(...args);
      expect(r.code, args.join(' ')).toBe(EXIT.input);
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    const usage = await run('train', 'architectures/mnist_resnet.yaml', '--epochs', 'many');
    expect(usage.code).toBe(EXIT.usage);
  });
});

describe('skipgraph fold', () => {
  it('writes the inference form of a saved model, refuses to fold it twice, and refuses another architecture', async () => {
    const { buildModel } = await import('../../../src/targets/tfjs/build.js');
    const { saveModel, loadModel } = await import('../../../src/targets/tfjs/io/model_files.js');
    const { compileArchitecture } = await import('./helpers/compile.js');
    const tf = await import('@tensorflow/tfjs');
    const dir = mkdtempSync(join(tmpdir(), 'sg-fold-'));
    await run('info', '--backend', 'wasm');
    const graph = compileArchitecture('architectures/mnist_resnet.yaml');
    const model = buildModel(graph, { seed: 2, probe: false });
    for (const w of model.weights) if (w.originalName.endsWith('moving_variance')) w.write(tf.fill(w.shape as number[], 2));
    await saveModel(model, join(dir, 'trained'));

    const r = await run('fold', 'architectures/mnist_resnet.yaml', '--model', join(dir, 'trained'), '--out', join(dir, 'folded'), '--backend', 'wasm');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const bns = graph.nodes.filter((n) => n.op === 'bn').length;
    expect(r.out).toMatch(new RegExp(`^folded ${bns} batch norms and fused \\d+ relus into \\d+ convs of mnist_resnet: 78,746 -> [\\d,]+ parameters$`, 'm'));
    expect(r.out).toMatch(/^the model uses stock TF\.js layers only: plain @tensorflow\/tfjs loads it$/m);
    const folded = await loadModel(join(dir, 'folded'));
    const x = tf.randomNormal([2, 28, 28, 1], 0, 1, 'float32', 3);
    const [a, b] = [model.predict(x) as import('@tensorflow/tfjs').Tensor, folded.predict(x) as import('@tensorflow/tfjs').Tensor];
    const diff = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / tf.max(tf.abs(a)).dataSync()[0];
    expect(diff).toBeLessThan(1e-4);
    tf.dispose([x, a, b]);
    model.dispose();
    folded.dispose();

    const twice = await run('fold', 'architectures/mnist_resnet.yaml', '--model', join(dir, 'folded'), '--out', join(dir, 'again'), '--backend', 'wasm');
    expect(twice.code).toBe(EXIT.input);
    expect(twice.err).toMatch(/is already folded \(its batch norms are gone\): fold the trained model it came from/);
    const other = await run('fold', 'architectures/cifar_resnet20.yaml', '--model', join(dir, 'trained'), '--out', join(dir, 'x'), '--backend', 'wasm');
    expect(other.code).toBe(EXIT.input);
    expect(other.err).toMatch(/is not cifar_resnet20: it has no layer /);
    expect(other.err + twice.err).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, 'again'))).toBe(false);
  });
});
