/**
 * docs/gpu.md "PyTorch on a GPU": the lines of its sh snippet are `bash bench/gpu_torch.sh` with
 * variables the script documents; `--pack` and the `TINY=1` dry run are run here as written (on
 * the CPU, into a temporary GPU_TORCH_DIR), so the GPU run is the remaining line: both parts print
 * their RESULT, the step benchmark (emitted ResNet-18 against torchvision's) and the trainer pair
 * (skipgraph's trainer on the emitted EfficientNet-B0 against the same trainer on torchvision's).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, torchPython } from '../targets/torch/helpers.js';

const python = torchPython();
const md = readFileSync(join(ROOT, 'docs/gpu.md'), 'utf8');
const section = md.slice(md.indexOf('## PyTorch on a GPU: `bench/gpu_torch.sh`'));
const lines = section.match(/```sh\n([\s\S]*?)```/)![1].trim().split('\n');
const script = readFileSync(join(ROOT, 'bench/gpu_torch.sh'), 'utf8');

/** A line's leading VAR=value words and the command after them. */
function parse(line: string): { vars: string[]; command: string } {
  const words = line.split(/\s+/);
  const vars = words.filter((w, k) => /^[A-Z_]+=/.test(w) && words.slice(0, k).every((v) => /^[A-Z_]+=/.test(v)));
  return { vars: vars.map((v) => v.slice(0, v.indexOf('='))), command: words.slice(vars.length).join(' ') };
}

describe('docs/gpu.md: bench/gpu_torch.sh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skipgraph-gpu-torch-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every line is the script, with variables its header documents', () => {
    const documented = script.slice(0, script.indexOf('set -uo pipefail'));
    for (const line of lines) {
      const { vars, command } = parse(line);
      expect(['bash bench/gpu_torch.sh --pack', 'bash bench/gpu_torch.sh'], line).toContain(command);
      for (const v of vars) expect(documented, `${line}: ${v}`).toMatch(new RegExp(`\\b${v}( \\(|=)`));
    }
    expect(lines.filter((l) => !l.includes('--pack') && !l.startsWith('TINY=1 ')).length, 'the GPU lines').toBeGreaterThan(0);
  });

  it.skipIf(python === undefined)('--pack, then the TINY=1 dry run on the CPU: both parts print their RESULT', () => {
    const env = { ...process.env, PY: python!, GPU_TORCH_DIR: dir, DEVICE: 'cpu' };
    const run = (line: string) => {
      const r = spawnSync('bash', ['-c', line], { cwd: ROOT, env, encoding: 'utf8', timeout: 600_000 });
      expect(r.status, `${line}:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`).toBe(0);
      return r.stdout;
    };
    const pack = lines.filter((l) => l.includes('--pack'));
    const tiny = lines.filter((l) => l.startsWith('TINY=1 '));
    expect([pack.length, tiny.length]).toEqual([1, 1]);
    expect(run(pack[0])).toContain(`carry ${dir}`);
    const out = run(tiny[0]);
    const results = out.split('\n').filter((l) => l.startsWith('RESULT ')).map((l) => JSON.parse(l.slice('RESULT '.length)) as Record<string, unknown>);
    expect(results.map((r) => r.arch)).toEqual(['resnet18', 'efficientnet_b0']);
    for (const r of results) {
      const ips = r.imagesPerSecond as Record<string, number[]>;
      expect(Object.keys(ips).slice(0, 2)).toEqual(['emitted', 'torchvision']);
      for (const v of [...ips.emitted, ...ips.torchvision]) expect(v).toBeGreaterThan(0);
    }
    expect(results[1]).toMatchObject({ size: 32, classes: 10, batch: 4, device: 'cpu' });
    expect(out).toMatch(/^emitted \/ torchvision \(images\/s, median of rounds\): \d+\.\d{3}$/m);
  }, 900_000);
});
