import * as tf from '@tensorflow/tfjs';

/**
 * Runs a backend's own kernels on TensorInfos from inside another kernel, makes tensors filled
 * by plain loops over the backend's memory (for data movement: im2col, col2im, filter flips),
 * and frees every intermediate it made. Nested kernels are not recorded on the gradient tape, so a kernel built
 * this way is as opaque to autodiff as a native one.
 */
/** Time spent in each nested kernel, by name, while a trace is set (for benchmarks). */
let trace: Map<string, { ms: number; calls: number }> | undefined;

export function setKernelTrace(into: Map<string, { ms: number; calls: number }> | undefined): void {
  trace = into;
}

export class KernelScope {
  private readonly made: tf.TensorInfo[] = [];

  constructor(
    readonly backend: tf.KernelBackend,
    readonly backendName: string,
  ) {}

  run(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: object = {}): tf.TensorInfo {
    const kernel = tf.getKernel(kernelName, this.backendName);
    if (kernel === undefined) {
      throw new Error(`skipgraph: kernel '${kernelName}' is not registered for backend '${this.backendName}'`);
    }
    return this.call(kernel, inputs, attrs);
  }

  /** Runs one given kernel (e.g. the stock kernel a composed one stands in for). */
  call(kernel: tf.KernelConfig, inputs: tf.NamedTensorInfoMap, attrs: object = {}): tf.TensorInfo {
    const kernelName = kernel.kernelName;
    const start = trace === undefined ? 0 : performance.now();
    const out = kernel.kernelFunc({ inputs, backend: this.backend, attrs: attrs as tf.NamedAttrMap });
    if (trace !== undefined) {
      const entry = trace.get(kernelName) ?? { ms: 0, calls: 0 };
      entry.ms += performance.now() - start;
      entry.calls += 1;
      trace.set(kernelName, entry);
    }
    if (Array.isArray(out)) {
      this.made.push(...out);
      throw new Error(`skipgraph: kernel '${kernelName}' returned several outputs where one was expected`);
    }
    this.made.push(out);
    return out;
  }

  owns(t: tf.TensorInfo): boolean {
    return this.made.includes(t);
  }

  /**
   * The float32 data of `t` in the backend's own memory, without a copy: the wasm heap or the cpu
   * backend's array. Only for CPU-memory backends (the ones composed kernels are installed on).
   * A wasm view dies when the heap grows, so take views after allocating (inside `make`).
   */
  view(t: tf.TensorInfo): Float32Array {
    const b = this.backend as unknown as RawBackend;
    if (typeof b.typedArrayFromHeap === 'function') return b.typedArrayFromHeap(t) as Float32Array;
    return b.readSync(t.dataId) as Float32Array;
  }

  /** A new float32 tensor whose every element `fill` writes (memory starts uninitialised). */
  make(shape: number[], fill: (out: Float32Array) => void): tf.TensorInfo {
    const b = this.backend as unknown as RawBackend;
    let out: tf.TensorInfo;
    if (typeof b.makeOutput === 'function' && typeof b.typedArrayFromHeap === 'function') {
      out = b.makeOutput(shape, 'float32');
      fill(b.typedArrayFromHeap(out) as Float32Array);
    } else {
      const values = new Float32Array(shape.reduce((a, n) => a * n, 1));
      fill(values);
      out = { dataId: this.backend.write(values, shape, 'float32'), shape, dtype: 'float32' };
    }
    this.made.push(out);
    return out;
  }

  reshape(x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  /** Frees every intermediate but `result` (which the caller hands to the engine). */
  release(result?: tf.TensorInfo): void {
    for (const t of this.made) {
      if (t !== result) this.backend.disposeData(t.dataId);
    }
    this.made.length = 0;
  }
}

interface RawBackend {
  typedArrayFromHeap?(t: tf.TensorInfo): tf.TypedArray;
  makeOutput?(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  readSync(dataId: object): tf.BackendValues;
}

/** Runs `body` in a fresh scope; intermediates are freed even when it throws. */
export function withKernelScope(
  backend: tf.KernelBackend,
  backendName: string,
  body: (scope: KernelScope) => tf.TensorInfo,
): tf.TensorInfo {
  const scope = new KernelScope(backend, backendName);
  let result: tf.TensorInfo | undefined;
  try {
    result = body(scope);
    if (!scope.owns(result)) {
      throw new Error('skipgraph: a composed kernel must return a tensor it made, not one of its inputs');
    }
    return result;
  } finally {
    scope.release(result);
  }
}
