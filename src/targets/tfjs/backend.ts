import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { UserError } from '../../errors/index.js';
import { installFastKernels } from './kernels/install.js';
import { describeAdapter, loadWebGpuBackend, shutdownWebGpu, webGpuAdapter, webGpuKernelFixes } from './backends/webgpu.js';

/** The names `--backend` and SKIPGRAPH_BACKEND accept, best first. */
export const BACKEND_CHOICES = ['node-gpu', 'webgpu', 'node', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

interface Candidate {
  choice: BackendChoice;
  /** The npm package that provides it. */
  pkg: string;
  /** The name TF.js registers the backend under. */
  tfName: string;
  /** Imports the package (which registers the backend); throws when it cannot. `forced`: by --backend. */
  load(forced: boolean): Promise<void>;
}

const importPackage = async (pkg: string): Promise<void> => {
  const specifier: string = pkg; // a variable, so TypeScript does not need the optional packages' types
  await import(specifier);
};

/**
 * The selection order. WebGPU (Dawn via the `webgpu` package, see backends/webgpu.ts) takes a
 * hardware adapter only, unless forced: a software one is slower than wasm.
 */
const CANDIDATES: readonly Candidate[] = [
  { choice: 'node-gpu', pkg: '@tensorflow/tfjs-node-gpu', tfName: 'tensorflow', load: () => importPackage('@tensorflow/tfjs-node-gpu') },
  { choice: 'webgpu', pkg: '@tensorflow/tfjs-backend-webgpu', tfName: 'webgpu', load: (forced) => loadWebGpuBackend(forced) },
  { choice: 'node', pkg: '@tensorflow/tfjs-node', tfName: 'tensorflow', load: () => importPackage('@tensorflow/tfjs-node') },
  { choice: 'wasm', pkg: '@tensorflow/tfjs-backend-wasm', tfName: 'wasm', load: () => importPackage('@tensorflow/tfjs-backend-wasm') },
  { choice: 'cpu', pkg: '@tensorflow/tfjs', tfName: 'cpu', load: async () => {} },
];

export interface BackendAttempt {
  choice: BackendChoice;
  pkg: string;
  /** Why this backend is not the one running. */
  reason: string;
}

export interface BackendReport {
  choice: BackendChoice;
  /** TF.js's own name for it (tf.getBackend()). */
  tfName: string;
  pkg: string;
  /** Why this one: "best available" or "forced by --backend" and the like. */
  why: string;
  /** The better backends that are not running, each with its reason. */
  passedOver: BackendAttempt[];
  /** Kernels replaced by skipgraph's composed ones on this backend. */
  fastKernels: string[];
}

export interface SelectOptions {
  /** A choice to force; overrides the environment. */
  force?: string;
  /** Defaults to process.env; SKIPGRAPH_BACKEND forces a choice. */
  env?: Record<string, string | undefined>;
  /** Where the force came from, for the report ("--backend", "SKIPGRAPH_BACKEND"). */
  forceSource?: string;
}

let current: BackendReport | undefined;

/** The report of the last successful selectBackend, if any. */
export function currentBackend(): BackendReport | undefined {
  return current;
}

function isBackendChoice(name: string): name is BackendChoice {
  return (BACKEND_CHOICES as readonly string[]).includes(name);
}

function installed(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n').find((l) => l.trim() !== '')?.trim() ?? text;
}

/** Loads and activates one candidate; returns undefined on success or the reason it failed. */
async function tryCandidate(c: Candidate, forced: boolean): Promise<string | undefined> {
  try {
    await c.load(forced);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'SKIPGRAPH_BACKEND_UNAVAILABLE') return firstLine(err);
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && !installed(c.pkg)) {
      return `${c.pkg} is not installed`;
    }
    return `${c.pkg} failed to load: ${firstLine(err)}`;
  }
  if (tf.findBackendFactory(c.tfName) === null) return `${c.pkg} loaded but registered no '${c.tfName}' backend`;
  return startBackend(c.tfName);
}

/**
 * tf.setBackend, with its two ways of failing turned into a reason: TF.js returns false (and logs
 * a warning, whose words become the reason) when a backend's factory or async init fails, and
 * throws for some other failures. Undefined when the backend now runs.
 */
export async function startBackend(tfName: string): Promise<string | undefined> {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(' '));
  try {
    const ok = await tf.setBackend(tfName);
    if (!ok) return `tf.setBackend('${tfName}') failed${warnings.length ? `: ${firstLine(warnings.slice(1).join('\n') || warnings[0])}` : ''}`;
  } catch (err) {
    return `tf.setBackend('${tfName}') threw: ${firstLine(err)}`;
  } finally {
    console.warn = warn;
  }
  return undefined;
}

/**
 * Picks and activates the best backend present: tfjs-node-gpu, tfjs-node, wasm, cpu; or the one
 * forced by `options.force` / SKIPGRAPH_BACKEND (a forced backend that fails is a UserError).
 * Installs the composed kernels the chosen backend lacks.
 */
export async function selectBackend(options: SelectOptions = {}): Promise<BackendReport> {
  const env = options.env ?? process.env;
  const envForce = env.SKIPGRAPH_BACKEND?.trim() || undefined;
  const force = options.force ?? envForce;
  const forceSource = options.force !== undefined ? (options.forceSource ?? '--backend') : 'SKIPGRAPH_BACKEND';
  if (force !== undefined && !isBackendChoice(force)) {
    throw new UserError(`unknown backend '${force}' (from ${forceSource}); choose one of: ${BACKEND_CHOICES.join(', ')}`);
  }
  const passedOver: BackendAttempt[] = [];
  for (const c of CANDIDATES) {
    if (force !== undefined && c.choice !== force) {
      if (CANDIDATES.indexOf(c) < CANDIDATES.findIndex((k) => k.choice === force)) {
        const state = installed(c.pkg) ? 'installed' : 'not installed';
        passedOver.push({ choice: c.choice, pkg: c.pkg, reason: `not tried: ${forceSource} forces '${force}' (${c.pkg} ${state})` });
      }
      continue;
    }
    const failure = await tryCandidate(c, force !== undefined);
    if (failure !== undefined) {
      if (force !== undefined) throw new UserError(`backend '${force}' (from ${forceSource}) is not available: ${failure}`);
      passedOver.push({ choice: c.choice, pkg: c.pkg, reason: failure });
      continue;
    }
    if (c.tfName === 'cpu') silenceCpuBanner();
    current = {
      choice: c.choice,
      tfName: c.tfName,
      pkg: c.pkg,
      why: force !== undefined ? `forced by ${forceSource}` : passedOver.length === 0 ? 'the best backend' : 'the best one available',
      passedOver,
      fastKernels: c.tfName === 'webgpu' ? webGpuKernelFixes() : installFastKernels(c.tfName),
    };
    return current;
  }
  throw new Error('skipgraph: no TF.js backend could start, not even cpu');
}

/** The cpu backend prints an advert for tfjs-node on first use; the backend report already says it. */
function silenceCpuBanner(): void {
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu !== null && 'firstUse' in cpu) cpu.firstUse = false;
}

/** The report as the lines `skipgraph info` and `train` print. */
export function describeBackend(report: BackendReport): string[] {
  const lines = [`backend: ${report.choice} (tf '${report.tfName}', ${report.pkg}) - ${report.why}`];
  const adapter = report.tfName === 'webgpu' ? webGpuAdapter() : undefined;
  if (adapter !== undefined) lines.push(`  adapter: ${describeAdapter(adapter)}`);
  for (const p of report.passedOver) lines.push(`  not ${p.choice}: ${p.reason}`);
  if (report.fastKernels.length > 0) lines.push(`  composed kernels: ${report.fastKernels.join(', ')}`);
  return lines;
}

/** Frees what the running backend holds outside the JS heap (the WebGPU device), so the process exits at once. */
export function releaseBackend(): void {
  shutdownWebGpu();
}
