import * as tf from '@tensorflow/tfjs';
import { conv2dBackpropFilterIm2col } from './conv2d_backprop_filter.js';
import { conv2dBackpropInputComposed } from './conv2d_backprop_input.js';
import { fusedBatchNormGrad } from './batchnorm_grad.js';
import { maxPoolGradComposed } from './max_pool_grad.js';
import { conv2dLiveTaps } from './conv2d_live_taps.js';
import { isReplaced, replaceKernel, restoreKernel } from './replace.js';

type Composed = (
  args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap },
  backendName: string,
  /** The backend's own kernel of that name, for composed kernels that wrap it. */
  stock?: tf.KernelConfig,
) => tf.TensorInfo;

const COMPOSED: Record<string, Composed> = {
  Conv2DBackpropFilter: conv2dBackpropFilterIm2col,
  Conv2DBackpropInput: conv2dBackpropInputComposed,
  MaxPoolGrad: maxPoolGradComposed,
  Conv2D: conv2dLiveTaps,
  FusedConv2D: conv2dLiveTaps,
};

/**
 * Which kernels each backend lacks or has only as a slow loop (measured on ResNet-18 shapes):
 * - wasm has no Conv2DBackpropFilter at all, and its Conv2DBackpropInput is a scalar loop about
 *   10x slower than its XNNPACK Conv2D;
 * - wasm's MaxPoolGrad loses the gradient of every window whose values are all negative;
 * - cpu's Conv2DBackpropFilter indexes through TensorBuffer.get per element (122 s per
 *   ResNet-18 step); its Conv2D and Conv2DBackpropInput run at its matmul's speed and stay, and
 *   its MaxPoolGrad is right but also per-element TensorBuffer work.
 * - wasm's Conv2D and FusedConv2D (XNNPACK) compute and, whenever the filter changes, repack every
 *   tap, also those that only meet padding (8 of 9 on a 1x1 map): a wrapper drops them.
 * AvgPoolGrad is right and fast on both; FusedBatchNorm's gradient is composed of ops and gets a
 * leaner version for every backend (see batchnorm_grad).
 * tfjs-node and GPU backends need no kernels.
 */
export const FAST_KERNEL_PLAN: Readonly<Record<string, readonly string[]>> = {
  wasm: ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad', 'Conv2D', 'FusedConv2D'],
  cpu: ['Conv2DBackpropFilter', 'MaxPoolGrad'],
};

const GRADIENTS: readonly tf.GradConfig[] = [fusedBatchNormGrad];
const stockGradients = new Map<string, tf.GradConfig | undefined>();

/** Registers the leaner gradients (backend-independent); idempotent. */
export function installFastGradients(): void {
  for (const grad of GRADIENTS) {
    if (stockGradients.has(grad.kernelName)) continue;
    stockGradients.set(grad.kernelName, tf.getGradient(grad.kernelName));
    tf.registerGradient(grad);
  }
}

/** Puts TF.js's own gradients back. */
export function uninstallFastGradients(): void {
  for (const [name, grad] of stockGradients) {
    if (grad !== undefined) tf.registerGradient(grad);
    stockGradients.delete(name);
  }
}

/**
 * Replaces the planned kernels of `backendName` with the composed ones, and registers the
 * leaner gradients; idempotent. Returns the kernel names.
 */
export function installFastKernels(backendName: string): string[] {
  installFastGradients();
  const names = FAST_KERNEL_PLAN[backendName] ?? [];
  for (const name of names) {
    const composed = COMPOSED[name];
    replaceKernel(name, backendName, (original) => (args) => {
      const format = (args.attrs as { dataFormat?: string }).dataFormat;
      if (format === 'NCHW' && original !== undefined) return original.kernelFunc(args);
      if (format === 'NCHW') throw new Error(`skipgraph: ${name} supports NHWC only on ${backendName}`);
      const { inputs, backend, attrs } = args;
      return composed({ inputs, backend: backend as tf.KernelBackend, attrs: attrs ?? {} }, backendName, original);
    });
  }
  return [...names];
}

/** Puts the backend's stock kernels back (used by tests and benchmarks to compare). */
export function uninstallFastKernels(backendName: string): void {
  for (const name of FAST_KERNEL_PLAN[backendName] ?? []) restoreKernel(name, backendName);
}

export function installedFastKernels(backendName: string): string[] {
  return (FAST_KERNEL_PLAN[backendName] ?? []).filter((n) => isReplaced(n, backendName));
}
