import type * as tf from '@tensorflow/tfjs';

/**
 * Dawn, the `webgpu` npm package's native WebGPU, for the TF.js WebGPU backend (webgpu.ts): the
 * adapter types, loading the optional packages, and the probe that picks an adapter along the
 * two routes webgpu.ts describes. Split from webgpu.ts, which registers the backend on the
 * adapter found here and shuts it down.
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
export interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}
export interface GpuLike {
  requestAdapter(options?: Record<string, unknown>): Promise<AdapterLike | null>;
}
export interface AdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  requestDevice(descriptor?: Record<string, unknown>): Promise<DeviceLike>;
}
export interface DeviceLike {
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

export async function loadDawn(): Promise<DawnModule> {
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

export function instance(d: DawnModule, route: WebGpuRoute, env: Record<string, string | undefined>): GpuLike {
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

export function adapterOptions(route: WebGpuRoute): Record<string, unknown> {
  return route === 'opengles' ? { featureLevel: 'compatibility', powerPreference: 'high-performance' } : { powerPreference: 'high-performance' };
}

/** Dawn prints adapter warnings to stderr through console.warn / console.error; hold them. */
export async function quietly<T>(notes: string[], body: () => Promise<T>): Promise<T> {
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

export function summarize(route: WebGpuRoute, a: AdapterLike): WebGpuAdapter {
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

export function routesFrom(options: WebGpuOptions): WebGpuRoute[] {
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


/** TF.js's WebGPU backend package: the one handed over by provideWebGpuModules, else imported by name. */
export async function loadWebGpuBackendModule(): Promise<WebGpuBackendModule> {
  return provided.backend ?? (await importPackage<WebGpuBackendModule>('@tensorflow/tfjs-backend-webgpu'));
}

/** Forgets the Dawn instances (at shutdown: each keeps the event loop alive while reachable). */
export function forgetDawnInstances(): void {
  instances.clear();
}

