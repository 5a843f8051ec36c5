import * as tf from '@tensorflow/tfjs';

/** The backend's own kernel that each replaced one stands in for (undefined: the backend had none). */
const stock = new Map<string, tf.KernelConfig | undefined>();
const key = (kernelName: string, backendName: string) => `${backendName}/${kernelName}`;

/**
 * Registers `make(stock)` as `kernelName` on `backendName` in place of the backend's own kernel,
 * which `make` receives (undefined where there is none) to wrap or fall back on. The stock
 * kernel's setup stays attached (wasm binds its C function there, when the backend starts).
 * Idempotent: returns false when the kernel is already replaced.
 */
export function replaceKernel(kernelName: string, backendName: string, make: (stock: tf.KernelConfig | undefined) => tf.KernelFunc): boolean {
  const k = key(kernelName, backendName);
  if (stock.has(k)) return false;
  const original = tf.getKernel(kernelName, backendName);
  stock.set(k, original);
  if (original !== undefined) tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ kernelName, backendName, setupFunc: original?.setupFunc, kernelFunc: make(original) });
  return true;
}

/** Puts the backend's own kernel back; a no-op where it was not replaced. */
export function restoreKernel(kernelName: string, backendName: string): void {
  const k = key(kernelName, backendName);
  if (!stock.has(k)) return;
  const original = stock.get(k);
  stock.delete(k);
  tf.unregisterKernel(kernelName, backendName);
  if (original === undefined) return;
  tf.registerKernel(original);
  // A backend set up while the replacement stood in may not have run this kernel's setup (it is
  // taken from the registry when the backend starts); run it now. Setups only bind, so twice is harmless.
  const backend = tf.engine().registry[backendName];
  if (backend !== undefined && original.setupFunc !== undefined) original.setupFunc(backend);
}

export function isReplaced(kernelName: string, backendName: string): boolean {
  return stock.has(key(kernelName, backendName));
}
