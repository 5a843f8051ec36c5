import * as tf from '@tensorflow/tfjs';
import { existsSync, readdirSync } from 'node:fs';
import { installWebGpuDirectConv, uninstallWebGpuDirectConv } from './webgpu_conv.js';
import { installWebGpuKernelFixes } from './webgpu_kernels.js';

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

export type WebGpuRoute = 'native' | 'opengles';

export interface WebGpuAdapter {
  route: WebGpuRoute;
  /** 'core' on the native route, 'compatibility' on OpenGL ES. */
  featureLevel: 'core' | 'compatibility';
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU rasterizer (llvmpipe, lavapipe, SwiftShader, WARP) or Dawn's fallback adapter. */
  software: boolean;
}

export interface WebGpuProbe {
  /** The adapter chosen, if one qualified. */
  adapter?: WebGpuAdapter;
  /** Every adapter found, qualifying or not. */
  found: WebGpuAdapter[];
  /** Why each route gave nothing usable (empty when an adapter was chosen at the first route). */
  notes: string[];
}

export interface WebGpuOptions {
  /** Accept a software adapter (default false: hardware only). */
  allowSoftware?: boolean;
  /**
   * Replace TF.js's convolution kernels and channel reductions with skipgraph's register-blocked
   * ones (webgpu_conv.ts). Default: SKIPGRAPH_WEBGPU_DIRECT_CONV (1 or 0), else only on a software
   * adapter, where they are 3-60x faster; on a GPU TF.js's tiled shaders are the right ones.
   */
  directConv?: boolean;
  /** Routes to try, in order (default SKIPGRAPH_WEBGPU_ROUTES, else native then opengles). */
  routes?: readonly WebGpuRoute[];
  env?: Record<string, string | undefined>;
}

/** The parts of the `webgpu` package this module uses. */
interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}
interface GpuLike {
  requestAdapter(options?: Record<string, unknown>): Promise<AdapterLike | null>;
}
interface AdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  requestDevice(descriptor?: Record<string, unknown>): Promise<DeviceLike>;
}
interface DeviceLike {
  destroy(): void;
  lost?: Promise<unknown>;
  onuncapturederror?: ((event: { error?: { message?: string } }) => void) | null;
}

export const WEBGPU_PACKAGES = ['webgpu', '@tensorflow/tfjs-backend-webgpu'] as const;

const ROUTE_HINT: Record<WebGpuRoute, string> = {
  native: 'no usable Vulkan driver: a GPU driver with its Vulkan ICD, or a newer Mesa lavapipe (25.x)',
  opengles: 'no usable EGL: Dawn loads libEGL.so (Debian: libegl-dev, libegl-mesa0, libgles2, libgl1-mesa-dri)',
};

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|microsoft basic render|\bwarp\b/i;

/** True for a CPU rasterizer or an adapter Dawn marks as fallback. */
export function isSoftwareAdapter(info: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean }): boolean {
  if (info.isFallbackAdapter === true) return true;
  return SOFTWARE.test([info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' '));
}

/** One line for `skipgraph info`: vendor, architecture, description, route. */
export function describeAdapter(a: WebGpuAdapter): string {
  const words = (s: string) => s.trim() || '-';
  const kind = a.software ? 'software' : 'hardware';
  return `vendor ${words(a.vendor)}, architecture ${words(a.architecture)}, device ${words(a.device)}, ` +
    `description ${words(a.description)} (${kind}, Dawn ${a.route === 'native' ? 'native API' : 'OpenGL ES'}, ${a.featureLevel})`;
}

const importPackage = async <T>(pkg: string): Promise<T> => {
  const specifier: string = pkg; // a variable, so TypeScript does not need the optional packages' types
  return (await import(specifier)) as T;
};

let dawn: DawnModule | undefined;
type WebGpuBackendModule = { WebGPUBackend: new (device: unknown, info: unknown) => tf.KernelBackend };
let provided: { dawn?: DawnModule; backend?: WebGpuBackendModule } = {};

/**
 * Hands over the two packages already imported, for a bundle (bench/gpu.sh --pack) where the
 * by-name imports below cannot be resolved or would load a second copy of TF.js.
 */
export function provideWebGpuModules(modules: { dawn?: unknown; backend?: unknown }): void {
  provided = {
    dawn: (modules.dawn as DawnModule | undefined) ?? provided.dawn,
    backend: (modules.backend as WebGpuBackendModule | undefined) ?? provided.backend,
  };
}
/** Dawn instances, one per route; kept for the process (creating one is the slow part). */
const instances = new Map<WebGpuRoute, GpuLike>();

async function loadDawn(): Promise<DawnModule> {
  if (dawn === undefined) {
    const mod: DawnModule & { default?: DawnModule } = provided.dawn ?? (await importPackage<DawnModule & { default?: DawnModule }>('webgpu'));
    dawn = typeof mod.create === 'function' ? mod : (mod.default as DawnModule);
    // GPUBufferUsage, GPUMapMode, ... : the TF.js backend reads these as globals.
    for (const [name, value] of Object.entries(dawn.globals)) {
      if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, writable: true, configurable: true });
    }
  }
  return dawn;
}

function instance(d: DawnModule, route: WebGpuRoute, env: Record<string, string | undefined>): GpuLike {
  let gpu = instances.get(route);
  if (gpu === undefined) {
    if (route === 'opengles') {
      // EGL without a display server: Mesa's surfaceless platform. Read by Mesa when Dawn opens EGL.
      if (env.EGL_PLATFORM === undefined) process.env.EGL_PLATFORM = 'surfaceless';
      gpu = d.create(['backend=opengles']);
    } else {
      gpu = d.create([]);
    }
    instances.set(route, gpu);
  }
  return gpu;
}

function adapterOptions(route: WebGpuRoute): Record<string, unknown> {
  return route === 'opengles' ? { featureLevel: 'compatibility', powerPreference: 'high-performance' } : { powerPreference: 'high-performance' };
}

/** Dawn prints adapter warnings to stderr through console.warn / console.error; hold them. */
async function quietly<T>(notes: string[], body: () => Promise<T>): Promise<T> {
  const { warn, error } = console;
  const keep = (...args: unknown[]) => void notes.push(args.map(String).join(' ').split('\n')[0].trim());
  console.warn = keep;
  console.error = keep;
  try {
    return await body();
  } finally {
    console.warn = warn;
    console.error = error;
  }
}

function summarize(route: WebGpuRoute, a: AdapterLike): WebGpuAdapter {
  // Dawn's GPUAdapterInfo keeps its fields as prototype getters: read each one (a spread sees none).
  const info = a.info ?? {};
  const fields = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    isFallbackAdapter: info.isFallbackAdapter ?? a.isFallbackAdapter,
  };
  return {
    route,
    featureLevel: route === 'opengles' ? 'compatibility' : 'core',
    vendor: fields.vendor,
    architecture: fields.architecture,
    device: fields.device,
    description: fields.description,
    software: isSoftwareAdapter(fields),
  };
}

function routesFrom(options: WebGpuOptions): WebGpuRoute[] {
  if (options.routes !== undefined) return [...options.routes];
  const text = (options.env ?? process.env).SKIPGRAPH_WEBGPU_ROUTES?.trim();
  if (!text) return ['native', 'opengles'];
  const routes = text.split(/[\s,]+/).filter((r): r is WebGpuRoute => r === 'native' || r === 'opengles');
  return routes.length > 0 ? routes : ['native', 'opengles'];
}

/**
 * Looks for an adapter along the routes; the first hardware adapter wins, and with
 * `allowSoftware` the first adapter of any kind. Throws only when the `webgpu` package cannot be
 * loaded.
 */
export async function probeWebGpu(options: WebGpuOptions = {}): Promise<WebGpuProbe> {
  const d = await loadDawn();
  const env = options.env ?? process.env;
  const found: WebGpuAdapter[] = [];
  const notes: string[] = [];
  for (const route of routesFrom(options)) {
    const said: string[] = [];
    let raw: AdapterLike | null = null;
    try {
      raw = await quietly(said, () => instance(d, route, env).requestAdapter(adapterOptions(route)));
    } catch (err) {
      said.push(err instanceof Error ? err.message.split('\n')[0] : String(err));
    }
    if (raw === null) {
      // Dawn writes its reasons to stderr itself; name the usual cause of each route's failure.
      const why = said.find((s) => /warning|error|required|fail|not/i.test(s)) ?? said[0] ?? ROUTE_HINT[route];
      notes.push(`${route}: no adapter (${why.replace(/^Warning:\s*/, '')})`);
      continue;
    }
    const adapter = summarize(route, raw);
    found.push(adapter);
    if (!adapter.software || options.allowSoftware) return { adapter, found, notes };
    notes.push(`${route}: software adapter '${adapter.device || adapter.description}' (not chosen unless forced: slower than wasm)`);
  }
  return { found, notes };
}

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
  const { WebGPUBackend } = provided.backend ?? (await importPackage<WebGpuBackendModule>('@tensorflow/tfjs-backend-webgpu'));
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
    instances.clear();
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
  instances.clear();
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
