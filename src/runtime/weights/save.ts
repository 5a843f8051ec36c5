/** Writes a model as a TF.js layers model: DIR/model.json + DIR/weights.bin (tf.loadLayersModel reads it). */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SavedModel {
  modelJson: string;
  weightsBin: string;
  bytes: number;
}

export async function saveModel(model: tf.LayersModel, dir: string, metadata: Record<string, unknown> = {}): Promise<SavedModel> {
  mkdirSync(dir, { recursive: true });
  const modelJson = join(dir, 'model.json');
  const weightsBin = join(dir, 'weights.bin');
  let bytes = 0;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData;
      const buffers = data === undefined ? [] : Array.isArray(data) ? data : [data];
      const bin = Buffer.concat(buffers.map((b) => Buffer.from(b)));
      bytes = bin.length;
      const json = {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: 'skipgraph',
        modelTopology: artifacts.modelTopology,
        userDefinedMetadata: { ...(artifacts.userDefinedMetadata ?? {}), ...metadata },
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      // Write beside, then rename: a crash never leaves a model.json pointing at half a weights.bin.
      writeFileSync(weightsBin + '.tmp', bin);
      writeFileSync(modelJson + '.tmp', JSON.stringify(json));
      renameSync(weightsBin + '.tmp', weightsBin);
      renameSync(modelJson + '.tmp', modelJson);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: bytes } };
    }),
  );
  return { modelJson, weightsBin, bytes };
}
