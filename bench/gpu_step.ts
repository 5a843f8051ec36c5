/**
 * Training-step throughput of an emitted architecture on one TF.js backend: images/s of a full
 * SGD step (forward, loss, backward, update) on a fixed random batch, after warm-up steps.
 *
 *   node --import tsx bench/gpu_step.ts --arch resnet18 --backend webgpu [--batch 32] [--size 224]
 *        [--classes 1000] [--warmup 2] [--steps 5]
 *
 * Prints the backend report, one human line, and one JSON line (prefix "RESULT ").
 * Every read of a tensor is `await data()`: WebGPU tensors cannot be read synchronously in Node.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileFile, requireClassifier } from '../src/compiler/files.js';
import { describeBackend, releaseBackend, selectBackend } from '../src/targets/tfjs/backend.js';
import { buildModel } from '../src/targets/tfjs/build.js';

interface Args {
  arch: string;
  backend?: string;
  batch: number;
  size: number;
  classes: number;
  warmup: number;
  steps: number;
}

function parse(argv: string[]): Args {
  const a: Args = { arch: 'resnet18', batch: 32, size: 224, classes: 1000, warmup: 2, steps: 5 };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (v === undefined) throw new Error(`${k} needs a value`);
    switch (k) {
      case '--arch': a.arch = v; break;
      case '--backend': a.backend = v; break;
      case '--batch': a.batch = Number(v); break;
      case '--size': a.size = Number(v); break;
      case '--classes': a.classes = Number(v); break;
      case '--warmup': a.warmup = Number(v); break;
      case '--steps': a.steps = Number(v); break;
      default: throw new Error(`unknown option ${k}`);
    }
  }
  return a;
}

/** Architectures live in ../architectures (repo) or beside the bundle (bench pack); SKIPGRAPH_ARCH_DIR overrides. */
function archPath(arch: string): string {
  if (arch.endsWith('.yaml')) return arch;
  const here = fileURLToPath(new URL('.', import.meta.url));
  const dirs = [process.env.SKIPGRAPH_ARCH_DIR, join(here, '..', 'architectures'), join(here, 'architectures')];
  const dir = dirs.find((d) => d !== undefined && existsSync(join(d, `${arch}.yaml`)));
  if (dir === undefined) throw new Error(`no architecture ${arch}.yaml in ${dirs.filter(Boolean).join(', ')}`);
  return join(dir, `${arch}.yaml`);
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  const report = await selectBackend(args.backend === undefined ? {} : { force: args.backend, forceSource: '--backend' });
  for (const line of describeBackend(report)) console.log(line);
  const sets = [`input.height=${args.size}`, `input.width=${args.size}`, `classes=${args.classes}`];
  const result = compileFile(archPath(args.arch), { sets });
  if (result.graph === undefined) throw new Error(result.diagnostics.map((d) => d.message).join('\n'));
  const g = requireClassifier(result.graph, 'the training step');
  const model = buildModel(g, { seed: 1, probe: false });
  const { height, width, channels } = g.input;
  const x = tf.randomNormal([args.batch, height, width, channels], 0, 1, 'float32', 3);
  const labels = tf.tensor1d(Array.from({ length: args.batch }, (_, i) => i % g.classes), 'int32');
  const y = tf.oneHot(labels, g.classes).toFloat();
  const optimizer = tf.train.sgd(0.01);
  const step = async (): Promise<number> => {
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true)!;
    const v = (await loss.data())[0]; // waits for the step's GPU work
    loss.dispose();
    return v;
  };
  const t0 = performance.now();
  const losses: number[] = [];
  for (let i = 0; i < args.warmup; i++) losses.push(await step());
  const warm = performance.now() - t0;
  const times: number[] = [];
  for (let i = 0; i < args.steps; i++) {
    const s = performance.now();
    losses.push(await step());
    times.push(performance.now() - s);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const ips = (args.batch * 1000) / median;
  const mem = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
  console.log(
    `${args.arch} ${args.size}x${args.size} batch ${args.batch} on ${report.choice}: ${ips.toFixed(1)} images/s ` +
      `(step median ${median.toFixed(0)} ms, mean ${mean.toFixed(0)} ms over ${args.steps}; warm-up ${args.warmup} steps ${(warm / 1000).toFixed(1)} s; ` +
      `loss ${losses[0].toFixed(3)} -> ${losses[losses.length - 1].toFixed(3)})`,
  );
  console.log(
    'RESULT ' +
      JSON.stringify({
        arch: args.arch, backend: report.choice, size: args.size, batch: args.batch, classes: args.classes,
        imagesPerSecond: Number(ips.toFixed(2)), stepMs: times.map((t) => Math.round(t)), warmupMs: Math.round(warm),
        losses: losses.map((l) => Number(l.toFixed(4))), gpuBytes: mem.numBytesInGPU ?? null,
      }),
  );
  releaseBackend();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
