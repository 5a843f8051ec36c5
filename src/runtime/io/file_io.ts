import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';

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
    mkdirSync(dir, { recursive: true });
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
    let modelJson: tf.io.ModelJSON;
    try {
      modelJson = JSON.parse(readFileSync(this.jsonPath, 'utf8')) as tf.io.ModelJSON;
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new UserError(code === 'ENOENT' ? `no model at ${this.jsonPath}` : `cannot read ${this.jsonPath}: ${(err as Error).message}`);
    }
    if (modelJson.modelTopology === undefined) throw new UserError(`${this.jsonPath} has no modelTopology: not a TF.js model.json`);
    const dir = dirname(this.jsonPath);
    return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
      const specs: tf.io.WeightsManifestEntry[] = [];
      const parts: ArrayBuffer[] = [];
      for (const group of manifest) {
        specs.push(...group.weights);
        for (const p of group.paths) {
          const bytes = readFileSync(join(dir, p));
          parts.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
        }
      }
      return [specs, tf.io.concatenateArrayBuffers(parts)];
    });
  }
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
