import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../../errors/index.js';

/**
 * An exponential moving average of a model's weights, as timm's ModelEmaV2: after each step,
 * ema = decay * ema + (1 - decay) * w for every weight, batch-norm moving statistics included.
 * With `warmup`, the decay of update t (1-based) is min(decay, (1 + t) / (10 + t)) (timm's
 * ModelEmaV3 warm-up). The averages live in their own tensors; `copyTo` puts them in a model
 * of the same architecture to evaluate or save.
 */
export class WeightEma {
  readonly decay: number;
  readonly warmup: boolean;
  updates = 0;
  private averages: tf.Tensor[];
  private readonly model: tf.LayersModel;

  constructor(model: tf.LayersModel, decay: number, options: { warmup?: boolean; from?: tf.Tensor[]; updates?: number } = {}) {
    if (!(decay > 0 && decay < 1)) throw new UserError(`--ema must be a decay in (0, 1), e.g. 0.999, not ${decay}`);
    this.decay = decay;
    this.warmup = options.warmup ?? false;
    this.model = model;
    this.updates = options.updates ?? 0;
    const ws = model.weights;
    if (options.from !== undefined && options.from.length !== ws.length) throw new UserError(`the saved EMA has ${options.from.length} tensors, the model ${ws.length}`);
    this.averages = ws.map((w, i) => tf.keep((options.from?.[i] ?? w.read()).clone()));
  }

  /** The decay the next update uses. */
  get currentDecay(): number {
    const t = this.updates + 1;
    return this.warmup ? Math.min(this.decay, (1 + t) / (10 + t)) : this.decay;
  }

  update(): void {
    const d = this.currentDecay;
    const ws = this.model.weights;
    const next = tf.tidy(() => ws.map((w, i) => tf.keep(tf.add(tf.mul(this.averages[i], d), tf.mul(w.read(), 1 - d)))));
    tf.dispose(this.averages);
    this.averages = next;
    this.updates++;
  }

  /** The averaged weights, in model.weights order (owned by the EMA: do not dispose). */
  get weights(): tf.Tensor[] {
    return this.averages;
  }

  /** Writes the averages into `target` (a model of the same architecture). */
  copyTo(target: tf.LayersModel): void {
    const tws = target.weights;
    if (tws.length !== this.averages.length) throw new UserError('the EMA model is not of the same architecture');
    tws.forEach((w, i) => w.write(this.averages[i]));
  }

  dispose(): void {
    tf.dispose(this.averages);
    this.averages = [];
  }
}
