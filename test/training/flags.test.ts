/**
 * Each engine's default run folder (issue 22: the two engines once shared runs/<name>, so a torch
 * run wrote into the TF.js run's folder).
 */
import { describe, expect, it } from 'vitest';
import { defaultRunFolder } from '../../src/training/flags.js';

describe('defaultRunFolder', () => {
  it('names the folder after the file, one per engine', () => {
    expect(defaultRunFolder('architectures/mnist_resnet.yaml', 'tfjs')).toBe('runs/mnist_resnet');
    expect(defaultRunFolder('architectures/mnist_resnet.yaml', 'torch')).toBe('runs/mnist_resnet-torch');
    expect(defaultRunFolder('C:\\nets\\a.yml', 'tfjs')).toBe('runs/a');
  });
});
