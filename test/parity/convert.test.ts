/** tools/torch_reference.py convert: a torch.save'd DataParallel checkpoint becomes a safetensors file skipgraph imports. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compiler/files.js';
import { checkStateDict, openSafetensors, stateDictSlots } from '../../src/targets/tfjs/weights/index.js';
import { announceSkip, findPython, SCRIPT, TINY_FLATTEN_YAML } from './fixtures.js';

const found = findPython();
const tmp = mkdtempSync(join(tmpdir(), 'skipgraph-convert-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('tools/torch_reference.py convert', () => {
  it('turns a checkpoint {"state_dict": {"module.…": …}} into safetensors with torchvision names', (ctx) => {
    if ('skip' in found) {
      announceSkip(found.skip);
      return ctx.skip();
    }
    const pth = join(tmp, 'ckpt.pth');
    const out = join(tmp, 'ckpt.safetensors');
    const save = [
      'import importlib.util, sys, torch',
      `spec = importlib.util.spec_from_file_location("ref", ${JSON.stringify(SCRIPT)})`,
      'ref = importlib.util.module_from_spec(spec); spec.loader.exec_module(ref)',
      'm = ref.TinyFlatten()',
      'sd = {"module." + k: v.double() if v.is_floating_point() else v for k, v in m.state_dict().items()}',
      `torch.save({"epoch": 3, "state_dict": sd}, ${JSON.stringify(pth)})`,
      // The script's own `convert` command, in the same process (one torch import, not two).
      `sys.argv = ["torch_reference.py", "convert", ${JSON.stringify(pth)}, ${JSON.stringify(out)}]`,
      'ref.main()',
    ].join('\n');
    execFileSync(found.python, ['-c', save], { stdio: ['ignore', 'ignore', 'pipe'] });
    const src = openSafetensors(out);
    try {
      const graph = compileSource(TINY_FLATTEN_YAML).graph!;
      expect(checkStateDict(stateDictSlots(graph), src.header.tensors)).toEqual({ missing: [], unexpected: [], mismatched: [] });
      expect(src.header.tensors.get('fc.weight')).toMatchObject({ dtype: 'F32', shape: [5, 512] }); // float64 -> float32
      expect(src.header.tensors.get('bn1.num_batches_tracked')).toMatchObject({ dtype: 'I64', shape: [] });
      expect(src.header.metadata).toMatchObject({ format: 'pt' });
    } finally {
      src.close();
    }
  });
});
