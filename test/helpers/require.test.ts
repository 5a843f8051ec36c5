/** The skip-or-fail policy (test/helpers/require.ts), with the environment passed in. */
import { describe, expect, it } from 'vitest';
import { chromiumMissing, importOptional, MissingDependencyError, pythonModulesMissing, requireAll, skipWithout } from './require.js';

describe('test/helpers/require.ts', () => {
  it('does not skip when the dependency is there, with or without SKIPGRAPH_REQUIRE_ALL', () => {
    expect(skipWithout('suite', undefined, {})).toBe(false);
    expect(skipWithout('suite', undefined, { SKIPGRAPH_REQUIRE_ALL: '1' })).toBe(false);
  });

  it('skips a missing dependency on a plain run, and fails under SKIPGRAPH_REQUIRE_ALL=1 naming it', () => {
    expect(skipWithout('require.test.ts (a made-up dependency)', 'torch is not installed', {})).toBe(true);
    expect(skipWithout('require.test.ts (a made-up dependency)', 'torch is not installed', { SKIPGRAPH_REQUIRE_ALL: '0' })).toBe(true);
    expect(() => skipWithout('require.test.ts (a made-up dependency)', 'torch is not installed', { SKIPGRAPH_REQUIRE_ALL: '1' })).toThrow(MissingDependencyError);
    expect(() => skipWithout('require.test.ts (a made-up dependency)', 'torch is not installed', { SKIPGRAPH_REQUIRE_ALL: '1' })).toThrow(/^require\.test\.ts \(a made-up dependency\): torch is not installed; SKIPGRAPH_REQUIRE_ALL=1 makes this a failure/);
    expect(requireAll({ SKIPGRAPH_REQUIRE_ALL: '1' })).toBe(true);
    expect(requireAll({})).toBe(false);
  });

  it('probes say why: a missing file, a missing npm package, a Python module that does not exist', async () => {
    expect(chromiumMissing('/nonexistent/chromium')).toMatch(/^\/nonexistent\/chromium not found \(apt-get install chromium\)$/);
    const pkg = await importOptional('skipgraph-no-such-package');
    expect(pkg).toEqual({ why: 'skipgraph-no-such-package is not installed' });
    expect(pythonModulesMissing('/nonexistent/python3', ['torch'], 'python3-torch')).toMatch(/^\/nonexistent\/python3 cannot import torch \(apt-get install python3-torch\): ENOENT$/);
  });
});
