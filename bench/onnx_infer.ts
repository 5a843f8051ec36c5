/**
 * Inference side by side (issue 14): onnxruntime-node (CPU provider, 2 intra-op threads) against
 * TF.js wasm, TF.js wasm on the folded model, and PyTorch eval (torch.set_num_threads(2),
 * Debian's /usr/bin/python3), for ResNet-50 at 224x224 batch 1 and ResNet-18 at 32x32 batch 32,
 * the same weights (torchvision's initialisation, random batch-norm statistics) in each. Every
 * engine runs in its own process (so each peak RSS is its own): one warm-up, then --rounds timed
 * forward passes; the median is reported.
 *
 *   node --import tsx bench/onnx_infer.ts [--rounds 10]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileFile, type CompiledGraph } from '../src/compiler/files.js';
import { splitmix32 as uniformSource } from '../src/random/index.js';
import { exportOnnx, torchvisionInit } from '../src/targets/onnx/index.js';
import { serializeSafetensors } from '../src/targets/tfjs/weights/index.js';
import { arch, argValue, emit, peakRssKiB, ROOT } from './common.js';

const argv = process.argv.slice(2);
const rounds = Number(argValue(argv, '--rounds', '10'));
const CASES = [
  { model: 'resnet50', size: 224, batch: 1 },
  { model: 'resnet18', size: 32, batch: 32 },
];

function graphOf(model: string, size: number): CompiledGraph {
  const r = compileFile(arch(model), { sets: [`input.height=${size}`, `input.width=${size}`] });
  if (!r.graph) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.graph;
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function child(engine: string, file: string, model: string, size: number, batch: number): Promise<void> {
  const x = new Float32Array(batch * 3 * size * size).map((_, i) => Math.sin(i));
  const times: number[] = [];
  if (engine === 'ort') {
    const ort = await import('onnxruntime-node');
    const s = await ort.InferenceSession.create(file, { executionProviders: ['cpu'], intraOpNumThreads: 2, interOpNumThreads: 1 });
    const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', x, [batch, 3, size, size]) };
    await s.run(feeds);
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      await s.run(feeds);
      times.push(performance.now() - t0);
    }
  } else {
    const tf = await import('@tensorflow/tfjs');
    const { selectBackend } = await import('../src/targets/tfjs/backend.js');
    const { buildModel } = await import('../src/targets/tfjs/build.js');
    const { foldForInference } = await import('../src/targets/tfjs/fold.js');
    const { loadStateDict, openSafetensors } = await import('../src/targets/tfjs/weights/index.js');
    await selectBackend({ force: 'wasm' });
    const graph = graphOf(model, size);
    let m = buildModel(graph, { probe: false });
    loadStateDict(m, graph, openSafetensors(file));
    if (engine === 'wasm-folded') m = foldForInference(m, graph).model;
    const input = tf.transpose(tf.tensor(x, [batch, 3, size, size]), [0, 2, 3, 1]);
    const run = async () => {
      const y = m.predict(input) as import('@tensorflow/tfjs').Tensor;
      await y.data();
      y.dispose();
    };
    await run();
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      await run();
      times.push(performance.now() - t0);
    }
  }
  emit({ engine, ms: median(times), peakRssMiB: peakRssKiB() / 1024 });
}

const TORCH = `
import json, sys, time, math, torch, torchvision
torch.set_num_threads(2)
name, size, batch, rounds, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
m = getattr(torchvision.models, name)()
import struct
with open(path, 'rb') as f:
    n = struct.unpack('<Q', f.read(8))[0]; header = json.loads(f.read(n)); data = f.read()
sd = {k: torch.frombuffer(bytearray(data[v['data_offsets'][0]:v['data_offsets'][1]]), dtype=torch.float32).reshape(v['shape']) for k, v in header.items() if k != '__metadata__'}
m.load_state_dict(sd, strict=False); m.eval()
x = torch.sin(torch.arange(batch * 3 * size * size, dtype=torch.float32)).reshape(batch, 3, size, size)
ts = []
with torch.no_grad():
    m(x)
    for _ in range(rounds):
        t0 = time.perf_counter(); m(x); ts.append((time.perf_counter() - t0) * 1000)
ts.sort()
rss = [int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]
print(json.dumps({'engine': 'torch', 'ms': ts[len(ts) // 2], 'peakRssMiB': rss / 1024}))
`;

if (argv[0] === '--child') {
  const [, engine, file, model, size, batch] = argv;
  await child(engine, file, model, Number(size), Number(batch));
} else {
  const dir = mkdtempSync(join(tmpdir(), 'skipgraph-onnx-bench-'));
  const rows: unknown[] = [];
  try {
    for (const c of CASES) {
      const graph = graphOf(c.model, c.size);
      const weights = torchvisionInit(graph, 1);
      const u = uniformSource(7);
      for (const [k, t] of weights) {
        if (k.endsWith('.running_var')) t.data.forEach((_, i) => (t.data[i] = 0.5 + 1.5 * u()));
        else if (k.endsWith('.running_mean')) t.data.forEach((_, i) => (t.data[i] = u() - 0.5));
      }
      const st = join(dir, `${c.model}.safetensors`);
      writeFileSync(st, serializeSafetensors(weights));
      const onnxFile = join(dir, `${c.model}.onnx`);
      writeFileSync(onnxFile, exportOnnx(graph, weights).bytes);
      const results: Record<string, { ms: number; peakRssMiB: number }> = {};
      for (const engine of ['ort', 'wasm', 'wasm-folded', 'torch']) {
        const r =
          engine === 'torch'
            ? spawnSync(process.env.SKIPGRAPH_PYTHON ?? '/usr/bin/python3', ['-c', TORCH, c.model, String(c.size), String(c.batch), String(rounds), st], { cwd: ROOT, encoding: 'utf8' })
            : spawnSync('node', ['--import', 'tsx', 'bench/onnx_infer.ts', '--child', engine, engine === 'ort' ? onnxFile : st, c.model, String(c.size), String(c.batch), '--rounds', String(rounds)], { cwd: ROOT, encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`${engine}: ${r.stderr}`);
        const line = r.stdout.trim().split('\n').pop()!;
        results[engine] = JSON.parse(line.startsWith('{') ? line : line.slice(line.indexOf('{')));
        process.stderr.write(`${c.model} ${c.size}x${c.size} batch ${c.batch} ${engine}: ${results[engine].ms.toFixed(1)} ms, ${results[engine].peakRssMiB.toFixed(0)} MiB\n`);
      }
      rows.push({ ...c, results, ortVsTorch: results.ort.ms / results.torch.ms, wasmVsOrt: results.wasm.ms / results.ort.ms, wasmFoldedVsOrt: results['wasm-folded'].ms / results.ort.ms });
    }
    console.log(JSON.stringify(rows, null, 2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
