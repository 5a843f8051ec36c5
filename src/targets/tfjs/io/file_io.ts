import * as tf from '@tensorflow/tfjs';
import { closeSync, existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../../errors/index.js';
import { writeFileAtomic } from '../../../io/atomic.js';
import { makeFolders } from '../../../io/out_dir.js';
import { insideFolder, openRegularFile, quote, readCappedFile, readExactly } from '../../../io/safe_read.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
const SCHEME = 'file://';

/** A path from a `file://` URL or a plain path; a folder means its model.json. */
function modelJsonPath(pathOrUrl: string, forSave: boolean): string {
  let p = pathOrUrl;
  if (p.startsWith(SCHEME)) p = p.startsWith('file:///') ? fileURLToPath(p) : p.slice(SCHEME.length);
  p = resolve(p);
  if (p.endsWith('.json')) return p;
  if (forSave || (existsSync(p) && statSync(p).isDirectory())) return join(p, MODEL_JSON);
  return p;
}

/** The model.json a `--model` path or `file://` URL names (a folder means its model.json). */
export const modelJsonPathFor = (pathOrUrl: string): string => modelJsonPath(pathOrUrl, false);

/**
 * Saves and loads TF.js's standard layout: `model.json` (topology, weights manifest) next to one
 * `weights.bin`, which tf.loadLayersModel reads. Each file is written atomically (temporary file
 * and rename), weights first, so model.json never names weights that are not fully written.
 */
export class FileHandler implements tf.io.IOHandler {
  readonly jsonPath: string;

  constructor(pathOrUrl: string, forSave = false) {
    this.jsonPath = modelJsonPath(pathOrUrl, forSave);
  }

  async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
    if (artifacts.modelTopology instanceof ArrayBuffer) {
      throw new Error('skipgraph file IO saves JSON model topologies only (not binary GraphDefs)');
    }
    const dir = dirname(this.jsonPath);
    makeFolders(dir);
    const weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
    const modelJson: tf.io.ModelJSON = {
      modelTopology: artifacts.modelTopology ?? {},
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy,
      weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
    };
    if (artifacts.trainingConfig !== undefined) modelJson.trainingConfig = artifacts.trainingConfig;
    if (artifacts.userDefinedMetadata !== undefined) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
    writeFileAtomic(join(dir, WEIGHTS_BIN), new Uint8Array(weights));
    writeFileAtomic(this.jsonPath, JSON.stringify(modelJson));
    return {
      modelArtifactsInfo: {
        dateSaved: new Date(),
        modelTopologyType: 'JSON',
        modelTopologyBytes: JSON.stringify(artifacts.modelTopology).length,
        weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
        weightDataBytes: weights.byteLength,
      },
    };
  }

  async load(): Promise<tf.io.ModelArtifacts> {
    const { modelJson, groups } = readModelJson(this.jsonPath);
    const declared = groups.reduce((a, g) => a + g.bytes, 0);
    if (declared > MAX_WEIGHT_BYTES) throw new UserError(`${this.jsonPath} declares ${declared} bytes of weights, over the limit of ${MAX_WEIGHT_BYTES}`);
    return tf.io.getModelArtifactsForJSON(modelJson, async () => [groups.flatMap((g) => g.specs), readWeightData(this.jsonPath, groups)]);
  }
}

/** The most a model.json may hold (ResNet-152's is under 1 MB). */
export const MAX_MODEL_JSON_BYTES = 64 * 2 ** 20;
/** The most weight bytes loadModel reads (a Node buffer's limit). */
export const MAX_WEIGHT_BYTES = 2 ** 32 - 1;

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };
const QUANT_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };
const MAX_FILES = 10_000;
const MAX_WEIGHTS = 100_000;

/** One weightsManifest group, checked: its files (real paths inside the folder) and how many bytes they must hold together. */
export interface ManifestGroup {
  paths: string[];
  names: string[];
  specs: tf.io.WeightsManifestEntry[];
  bytes: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads and checks a model.json: at most MAX_MODEL_JSON_BYTES, a regular file, JSON with a
 * modelTopology, and a weightsManifest whose every path resolves (symlinks followed) inside the
 * model's folder and whose every weight has a known dtype and a shape, so each group's size is
 * known before a byte of weights is read.
 */
export function readModelJson(jsonPath: string): { modelJson: tf.io.ModelJSON; groups: ManifestGroup[] } {
  let text: string;
  try {
    text = readCappedFile(jsonPath, MAX_MODEL_JSON_BYTES, 'model file').toString('utf8');
  } catch (e) {
    const reason = (e as Error).message;
    if (e instanceof UserError && reason.endsWith(': no such file or folder')) throw new UserError(`no model at ${jsonPath}`);
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's message quotes the text: never echo a file's bytes.
    throw new UserError(`${jsonPath} is not JSON: not a TF.js model.json`);
  }
  if (!isObject(json)) throw new UserError(`${jsonPath} is not a JSON object: not a TF.js model.json`);
  if (json.modelTopology === undefined) throw new UserError(`${jsonPath} has no modelTopology: not a TF.js model.json`);
  const manifest = json.weightsManifest ?? [];
  const bad = (msg: string): never => {
    throw new UserError(`${jsonPath}: weightsManifest ${msg}`);
  };
  if (!Array.isArray(manifest)) bad('is not a list');
  const dir = dirname(jsonPath);
  const groups: ManifestGroup[] = [];
  let files = 0;
  let weights = 0;
  const seen = new Set<string>();
  for (const [gi, group] of (manifest as unknown[]).entries()) {
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) bad(`group ${gi} is not { paths: [...], weights: [...] }`);
    const g = group as { paths: unknown[]; weights: unknown[] };
    files += g.paths.length;
    weights += g.weights.length;
    if (files > MAX_FILES || weights > MAX_WEIGHTS) bad(`lists more than ${MAX_FILES} files or ${MAX_WEIGHTS} weights`);
    const paths = g.paths.map((p, i) => {
      if (typeof p !== 'string') return bad(`group ${gi} path ${i} is not a string`);
      return insideFolder(dir, p, `${jsonPath}: weightsManifest path`);
    });
    if (paths.length === 0 && g.weights.length > 0) bad(`group ${gi} has weights but no files`);
    let bytes = 0;
    const specs: tf.io.WeightsManifestEntry[] = [];
    for (const [wi, w] of g.weights.entries()) {
      if (!isObject(w) || typeof w.name !== 'string') return bad(`group ${gi} weight ${wi} has no name`);
      const name = w.name;
      if (seen.has(name)) bad(`names the weight ${quote(name)} twice`);
      seen.add(name);
      const shape = w.shape;
      if (!Array.isArray(shape) || shape.length > 16 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) bad(`weight ${quote(name)} has a bad shape`);
      const count = (shape as number[]).reduce((a, b) => a * b, 1);
      const q = w.quantization;
      let size: number | undefined;
      if (q !== undefined) {
        if (!isObject(q) || typeof q.dtype !== 'string' || !Object.hasOwn(QUANT_BYTES, q.dtype)) bad(`weight ${quote(name)} has an unknown quantization`);
        size = QUANT_BYTES[(q as { dtype: string }).dtype];
      } else if (typeof w.dtype === 'string' && Object.hasOwn(DTYPE_BYTES, w.dtype)) size = DTYPE_BYTES[w.dtype];
      if (size === undefined) bad(`weight ${quote(name)} has the dtype ${quote(String(w.dtype))}; float32, int32 and bool are read`);
      const add = count * size!;
      if (!Number.isSafeInteger(add) || !Number.isSafeInteger(bytes + add)) bad(`weight ${quote(name)} is too large`);
      bytes += add;
      specs.push(w as unknown as tf.io.WeightsManifestEntry);
    }
    groups.push({ paths, names: g.paths as string[], specs, bytes });
  }
  return { modelJson: json as unknown as tf.io.ModelJSON, groups };
}

/**
 * The weight bytes of checked manifest groups: each group's files together hold exactly the bytes
 * its weights declare (a file that is larger, smaller, or not a regular file is refused); nothing
 * beyond the declared size is read.
 */
export function readWeightData(jsonPath: string, groups: ManifestGroup[]): ArrayBuffer {
  const total = groups.reduce((a, g) => a + g.bytes, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const g of groups) {
    const opened = g.paths.map((p, i) => ({ ...openRegularFile(p, 'weights file'), name: g.names[i] }));
    try {
      const sum = opened.reduce((a, o) => a + o.size, 0);
      if (sum !== g.bytes) {
        throw new UserError(`${jsonPath}: the weights file${opened.length === 1 ? '' : 's'} ${opened.map((o) => quote(o.name)).join(', ')} hold${opened.length === 1 ? 's' : ''} ${sum} bytes, but the manifest declares ${g.bytes}`);
      }
      for (const o of opened) {
        if (!readExactly(o.fd, out.subarray(at, at + o.size), 0)) throw new UserError(`${jsonPath}: weights file ${quote(o.name)} ended before its ${o.size} bytes (it changed while being read)`);
        at += o.size;
      }
    } finally {
      for (const o of opened) closeSync(o.fd);
    }
  }
  return out.buffer;
}

/** What a router returns for a URL it does not handle (TF.js's IORouter type omits null). */
const NO_MATCH = null as unknown as tf.io.IOHandler;

let registered = false;
let consulting = false;

/**
 * Registers `file://` save and load routers for tf.LayersModel.save and tf.loadLayersModel.
 * When another router (tfjs-node's) also claims the URL, ours steps aside, since TF.js refuses a
 * URL that two handlers claim. Idempotent.
 */
export function registerFileRouters(): void {
  if (registered) return;
  registered = true;
  const route = (forSave: boolean) => (url: string | string[]): tf.io.IOHandler => {
    if (Array.isArray(url) || !url.startsWith(SCHEME) || consulting) return NO_MATCH;
    consulting = true;
    try {
      const others = forSave ? tf.io.getSaveHandlers(url) : tf.io.getLoadHandlers(url);
      if (others.length > 0) return NO_MATCH;
    } finally {
      consulting = false;
    }
    return new FileHandler(url, forSave);
  };
  tf.io.registerSaveRouter(route(true));
  tf.io.registerLoadRouter(route(false));
}
