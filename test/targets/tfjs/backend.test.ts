import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { currentBackend, describeBackend, selectBackend, startBackend } from '../../../src/targets/tfjs/backend.js';
import { UserError } from '../../../src/errors/index.js';

describe('backend selection', () => {
  afterAll(async () => {
    await selectBackend({ force: 'wasm' });
  });

  it('a backend that fails to start is a reason, not an exception (tf.setBackend returns false)', async () => {
    tf.registerBackend('sg-broken-sync', () => {
      throw new Error('no device here');
    });
    tf.registerBackend('sg-broken-async', async () => {
      throw new Error('adapter lost');
    });
    expect(await startBackend('sg-broken-sync')).toMatch(/^tf\.setBackend\('sg-broken-sync'\) failed: .*no device here/);
    expect(await startBackend('sg-broken-async')).toMatch(/^tf\.setBackend\('sg-broken-async'\) failed: .*adapter lost/);
    expect(await startBackend('sg-not-registered')).toMatch(/threw: Backend name 'sg-not-registered' not found/);
    expect(await startBackend('cpu')).toBeUndefined();
    expect(tf.getBackend()).toBe('cpu');
  });

  it('SKIPGRAPH_BACKEND forces a backend; --backend wins over it', async () => {
    const fromEnv = await selectBackend({ env: { SKIPGRAPH_BACKEND: 'cpu' } });
    expect(fromEnv.choice).toBe('cpu');
    expect(fromEnv.why).toBe('forced by SKIPGRAPH_BACKEND');
    expect(tf.getBackend()).toBe('cpu');
    const flag = await selectBackend({ force: 'wasm', env: { SKIPGRAPH_BACKEND: 'cpu' } });
    expect(flag.choice).toBe('wasm');
    expect(currentBackend()).toBe(flag);
    await expect(selectBackend({ env: { SKIPGRAPH_BACKEND: 'gpu' } })).rejects.toThrow(UserError);
  });

  it('picks the best present and says why each better one is not running', async () => {
    const r = await selectBackend({ env: {} });
    expect(tf.getBackend()).toBe(r.tfName);
    const lines = describeBackend(r);
    expect(lines[0]).toMatch(new RegExp(`^backend: ${r.choice} `));
    for (const p of r.passedOver) {
      expect(p.reason.length).toBeGreaterThan(0);
      expect(lines.join('\n')).toContain(`not ${p.choice}: ${p.reason}`);
    }
    if (r.choice === 'wasm') {
      expect(r.passedOver.map((p) => p.choice)).toEqual(expect.arrayContaining(['node-gpu', 'node']));
      expect(r.fastKernels).toEqual(['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad', 'Conv2D', 'FusedConv2D']);
    }
  });
});
