import * as tf from '@tensorflow/tfjs';
import { existsSync, readdirSync } from 'node:fs';
import { installWebGpuDirectConv, uninstallWebGpuDirectConv } from './webgpu_conv.js';
import { installWebGpuKernelFixes } from './webgpu_kernels.js';
import {
  adapterOptions,
  forgetDawnInstances,
  instance,
  loadDawn,
  loadWebGpuBackendModule,
  probeWebGpu,
  quietly,
  type AdapterLike,
  type DeviceLike,
  type GpuLike,
  type WebGpuAdapter,
  type WebGpuOptions,
} from './webgpu_dawn.js';

export {
  describeAdapter,
  isSoftwareAdapter,
  probeWebGpu,
  provideWebGpuModules,
  WEBGPU_PACKAGES,
  type WebGpuAdapter,
  type WebGpuOptions,
  type WebGpuProbe,
  type WebGpuRoute,
} from './webgpu_dawn.js';

/**
 * The WebGPU backend of TF.js (@tensorflow/tfjs-backend-webgpu) on Dawn, which the `webgpu` npm
 * package ships as a native Node addon. Both packages are optional dependencies.
 *
 * Dawn is asked for an adapter along two routes, in this order:
 * - `native`: the platform's own API (Vulkan on Linux, Metal on macOS, D3D12 on Windows), core
 *   feature level. A GPU driver with a Vulkan ICD (NVIDIA, AMD, Intel) gives a hardware adapter
 *   here; Mesa's lavapipe (software Vulkan) of a newer Mesa (25.0.7 measured) gives a software one (Mesa 22's is
 *   rejected by Dawn: "Vulkan shaderUniform*ArrayDynamicIndexing required").
 * - `opengles`: Dawn's OpenGL ES backend over EGL, WebGPU compatibility mode. On a machine without
 *   a GPU this is Mesa's llvmpipe (software) on EGL_PLATFORM=surfaceless, which stock Debian 12
 *   Mesa provides.
 *
 * A software adapter (llvmpipe, lavapipe, SwiftShader, WARP or one Dawn calls a fallback) is
 * slower than the wasm backend with skipgraph's kernels, so automatic selection takes hardware
 * adapters only; `allowSoftware` (from `--backend webgpu`) takes a software one too.
 *
 * GPU tensors cannot be read synchronously in Node (`dataSync` needs OffscreenCanvas, which Node
 * lacks): read them with `await t.data()`.
 */

interface Active {
  adapter: WebGpuAdapter;
  device?: DeviceLike;
  /** Kernels replaced by skipgraph's fixes. */
  fixes: string[];
}
let active: Active | undefined;
let exitHooked = false;

/**
 * WebGPU reports a bad shader or pipeline asynchronously, and the kernel's output is then left
 * unwritten rather than an exception thrown: every such error is kept here (and printed once).
 */
const errors: string[] = [];

/** The device errors seen since the backend started (validation, out-of-memory, internal). */
export function webGpuErrors(): readonly string[] {
  return errors;
}

/** The adapter the registered 'webgpu' backend runs on, once registerWebGpu succeeded. */
export function webGpuAdapter(): WebGpuAdapter | undefined {
  return active?.adapter;
}

/** The WebGPU kernels skipgraph replaced (see webgpu_kernels.ts). */
export function webGpuKernelFixes(): string[] {
  return active ? [...active.fixes] : [];
}

/**
 * Loads Dawn and the TF.js WebGPU backend and registers TF.js's 'webgpu' backend on the adapter
 * probeWebGpu chooses (the backend's own factory would ask navigator.gpu with default options,
 * which misses the OpenGL ES route). Throws, with the reasons, when no adapter qualifies.
 * Activate it afterwards with tf.setBackend('webgpu').
 */
export async function registerWebGpu(options: WebGpuOptions = {}): Promise<WebGpuAdapter> {
  if (active !== undefined) shutdownWebGpu(); // a second selection: free the first device
  const d = await loadDawn();
  const probe = await probeWebGpu(options);
  if (probe.adapter === undefined) {
    const notes = probe.notes.length > 0 ? probe.notes.join('; ') : 'no route tried';
    throw new Error(`no ${options.allowSoftware ? '' : 'hardware '}WebGPU adapter: ${notes}`);
  }
  const chosen = probe.adapter;
  const env = options.env ?? process.env;
  const gpu = instance(d, chosen.route, env);
  // The backend reads navigator.gpu when it is imported (to register its own factory) and when a
  // WebGPUBackend is constructed. Import it first, so that its own factory is never registered.
  const { WebGPUBackend } = await loadWebGpuBackendModule();
  setNavigatorGpu(gpu);
  if (tf.findBackendFactory('webgpu') !== null) tf.removeBackend('webgpu');
  const fixes = installWebGpuKernelFixes();
  if (useDirectConv(options, chosen, env)) fixes.push(...installWebGpuDirectConv());
  else uninstallWebGpuDirectConv();
  if (!exitHooked) process.once('beforeExit', shutdownWebGpu); // in case nobody calls it
  exitHooked = true;
  active = { adapter: chosen, fixes };
  const state = active;
  tf.registerBackend(
    'webgpu',
    async () => {
      // A fresh adapter each time: an adapter gives one device only.
      const raw = await quietly([], () => gpu.requestAdapter(adapterOptions(chosen.route)));
      if (raw === null) throw new Error(`the ${chosen.route} WebGPU adapter went away`);
      const device = await raw.requestDevice(deviceDescriptor(raw));
      state.device = device;
      device.onuncapturederror = (event) => {
        const message = (event.error?.message ?? String(event.error)).trim();
        if (errors.length < 100) errors.push(message);
        if (errors.length === 1) console.error(`skipgraph: WebGPU device error (results may be wrong): ${message.split('\n')[0]}`);
      };
      return new WebGPUBackend(device, raw.info);
    },
    3,
  );
  return chosen;
}

function useDirectConv(options: WebGpuOptions, adapter: WebGpuAdapter, env: Record<string, string | undefined>): boolean {
  if (options.directConv !== undefined) return options.directConv;
  const forced = env.SKIPGRAPH_WEBGPU_DIRECT_CONV?.trim();
  if (forced === '1' || forced === '0') return forced === '1';
  return adapter.software;
}

/** What the TF.js backend's own factory asks for: the adapter's limits and optional features. */
function deviceDescriptor(a: AdapterLike): Record<string, unknown> {
  const l = a.limits;
  const requiredFeatures = a.features.has('timestamp-query') ? ['timestamp-query'] : [];
  return {
    requiredFeatures,
    requiredLimits: {
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    },
  };
}

/** Node 20 has no navigator; Node 21+ has one without gpu (a getter on globalThis). */
function setNavigatorGpu(gpu: GpuLike): void {
  const g = globalThis as unknown as { navigator?: Record<string, unknown> };
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, writable: true, configurable: true });
  } else if (g.navigator.gpu !== gpu) {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, writable: true, configurable: true });
  }
}

/**
 * Removes the 'webgpu' backend (freeing its buffers) and destroys its device, so the process
 * exits without waiting on Dawn. Safe to call when WebGPU never started. If 'webgpu' was the
 * active backend, TF.js falls back to the next registered one on next use.
 */
export function shutdownWebGpu(): void {
  if (active === undefined) {
    forgetDawnInstances();
    return;
  }
  const device = active.device;
  active = undefined;
  uninstallWebGpuDirectConv();
  if (tf.findBackendFactory('webgpu') !== null) {
    try {
      tf.removeBackend('webgpu');
    } catch {
      // a backend that failed to start has nothing to free
    }
  }
  try {
    device?.destroy();
  } catch {
    // already destroyed or lost
  }
  // Dawn keeps the event loop alive while its GPU object is reachable (dawn.node's lifetime
  // rule): drop every reference to it.
  const g = globalThis as unknown as { navigator?: Record<string, unknown> };
  if (g.navigator !== undefined && g.navigator.gpu !== undefined) {
    try {
      delete g.navigator.gpu;
    } catch {
      g.navigator.gpu = undefined;
    }
  }
  forgetDawnInstances();
}

/** An error that says why a backend is not there (not a fault): the selection shows its message as is. */
export class BackendUnavailable extends Error {
  readonly code = 'SKIPGRAPH_BACKEND_UNAVAILABLE';
}

/**
 * Why automatic selection should not even ask Dawn, or undefined when it may: on Linux a GPU
 * shows as /dev/nvidia* (NVIDIA), /dev/dri/renderD* (Mesa and AMD/Intel drivers) or /dev/dxg
 * (WSL). Without one, Dawn only finds software adapters (and prints its Vulkan complaints), so
 * it is not asked; `--backend webgpu` asks anyway.
 */
export function gpuDeviceAbsence(platform: string = process.platform, dev = '/dev'): string | undefined {
  if (platform !== 'linux') return undefined;
  if (existsSync(`${dev}/nvidiactl`) || existsSync(`${dev}/nvidia0`) || existsSync(`${dev}/dxg`)) return undefined;
  try {
    if (readdirSync(`${dev}/dri`).some((n) => n.startsWith('renderD'))) return undefined;
  } catch {
    // no /dev/dri
  }
  return `no GPU device (${dev}/nvidia*, ${dev}/dri/renderD*, ${dev}/dxg), so no hardware adapter; --backend webgpu runs on a software one`;
}

/**
 * The backend selection's loader: registers TF.js's 'webgpu' backend on a hardware adapter, or
 * on any adapter when `forced` (--backend webgpu). Throws BackendUnavailable when there is none.
 */
export async function loadWebGpuBackend(forced: boolean, env: Record<string, string | undefined> = process.env): Promise<void> {
  if (!forced) {
    const absent = gpuDeviceAbsence();
    if (absent !== undefined) throw new BackendUnavailable(absent);
  }
  try {
    await registerWebGpu({ allowSoftware: forced, env });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw err;
    throw new BackendUnavailable(err instanceof Error ? err.message : String(err));
  }
}
