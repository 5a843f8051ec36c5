import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../../errors/index.js';

type NamedTensor = { name: string; tensor: tf.Tensor };

export const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** Throws a UserError for an unknown optimizer or a learning rate that is not a positive number. */
export function checkOptimizer(name: string, lr: number): OptimizerName {
  if (!(lr > 0 && Number.isFinite(lr))) throw new UserError(`--lr must be a positive number, not ${lr}`);
  if (!(OPTIMIZERS as readonly string[]).includes(name)) throw new UserError(`unknown optimizer '${name}'; use ${OPTIMIZERS.join(', ')}`);
  return name as OptimizerName;
}

export interface OptimizerOptions {
  /** Default 0.9 (SGD only). PyTorch's form: buf = m * buf + g; p -= lr * buf. */
  momentum?: number;
  /** Nesterov momentum (SGD only): p -= lr * (g + m * buf). */
  nesterov?: boolean;
  /**
   * SGD and Adam: coupled L2, as torch.optim.SGD/Adam: g += wd * p before the update.
   * AdamW: decoupled, as torch.optim.AdamW: p *= 1 - lr * wd, then the Adam update. Default 0.
   */
  weightDecay?: number;
  /**
   * Decay every parameter, biases and batch-norm's gamma/beta included. Default false: as timm's
   * param_groups_weight_decay, parameters of rank <= 1 are not decayed.
   */
  decayAll?: boolean;
  /** Variable names never decayed (timm's no_weight_decay list), matched by substring. */
  noWeightDecay?: string[];
  /** Clip the global L2 norm of the gradients to this (torch.nn.utils.clip_grad_norm_), before decay. */
  clipGradNorm?: number;
  /** Adam/AdamW: betas (0.9, 0.999) and epsilon 1e-8, PyTorch's defaults. */
  betas?: [number, number];
  epsilon?: number;
}

/**
 * TF.js's momentum or Adam optimizer with PyTorch's weight decay and gradient clipping around
 * it: applyGradients clips, adds the decay, then hands the gradients to the stock update, so
 * the stock state (momentum buffers, moments) is what checkpoints save and restore.
 */
export class RecipeOptimizer extends tf.Optimizer {
  static className = 'SkipgraphRecipeOptimizer';
  readonly name: OptimizerName;
  readonly inner: tf.Optimizer;
  readonly settings: Required<Omit<OptimizerOptions, 'clipGradNorm'>> & { clipGradNorm?: number };
  private lr: number;

  constructor(name: string, lr: number, options: OptimizerOptions = {}) {
    super();
    const s = RecipeOptimizer.check(name, lr, options);
    this.name = name as OptimizerName;
    this.settings = s;
    this.lr = lr;
    this.inner = this.name === 'sgd' ? tf.train.momentum(lr, s.momentum, s.nesterov) : tf.train.adam(lr, s.betas[0], s.betas[1], s.epsilon);
  }

  /** The options with their defaults, or a UserError; creates no tensor (so no backend starts). */
  static check(name: string, lr: number, options: OptimizerOptions = {}): RecipeOptimizer['settings'] {
    const optimizer = checkOptimizer(name, lr);
    const s = { momentum: 0.9, nesterov: false, weightDecay: 0, decayAll: false, noWeightDecay: [], betas: [0.9, 0.999] as [number, number], epsilon: 1e-8, ...options };
    if (!(s.weightDecay >= 0 && Number.isFinite(s.weightDecay))) throw new UserError(`--weight-decay must be 0 or a positive number, not ${s.weightDecay}`);
    if (!(s.momentum >= 0 && s.momentum < 1)) throw new UserError(`--momentum must be in [0, 1), not ${s.momentum}`);
    if (s.nesterov && (optimizer !== 'sgd' || s.momentum === 0)) throw new UserError('--nesterov needs sgd with a momentum above 0');
    if (s.clipGradNorm !== undefined && !(s.clipGradNorm > 0)) throw new UserError(`--clip-grad must be a positive number, not ${s.clipGradNorm}`);
    return s;
  }

  get learningRate(): number {
    return this.lr;
  }

  setLearningRate(lr: number): void {
    this.lr = lr;
    const o = this.inner as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
    if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
    else o.learningRate = lr;
  }

  /** Whether weight decay applies to a variable (by name and rank). */
  decays(name: string, rank: number): boolean {
    const s = this.settings;
    if (s.weightDecay === 0) return false;
    if (s.noWeightDecay.some((n) => name.includes(n))) return false;
    return s.decayAll || rank > 1;
  }

  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const list: NamedTensor[] = Array.isArray(variableGradients)
      ? variableGradients
      : Object.keys(variableGradients).map((name) => ({ name, tensor: variableGradients[name] }));
    const vars = tf.engine().registeredVariables;
    const s = this.settings;
    const grads = tf.tidy(() => {
      let gs = list.map((g) => g.tensor);
      if (s.clipGradNorm !== undefined) {
        // The scale stays a tensor: reading the norm back (dataSync) throws on WebGPU in Node.
        const norm = tf.sqrt(tf.addN(gs.map((g) => tf.sum(tf.square(g)))));
        const coef = tf.minimum(1, tf.div(s.clipGradNorm, tf.add(norm, 1e-6)));
        gs = gs.map((g) => tf.mul(g, coef));
      }
      if (s.weightDecay > 0 && this.name !== 'adamw') {
        gs = gs.map((g, i) => {
          const v = vars[list[i].name];
          return v !== undefined && this.decays(list[i].name, v.rank) ? tf.add(g, tf.mul(v, s.weightDecay)) : g;
        });
      }
      return gs.map((g) => tf.keep(g.clone()));
    });
    if (s.weightDecay > 0 && this.name === 'adamw') {
      const factor = 1 - this.lr * s.weightDecay;
      for (const g of list) {
        const v = vars[g.name];
        if (v !== undefined && this.decays(g.name, v.rank)) tf.tidy(() => v.assign(tf.mul(v, factor)));
      }
    }
    this.inner.applyGradients(list.map((g, i) => ({ name: g.name, tensor: grads[i] })));
    tf.dispose(grads);
    this.incrementIterations();
  }

  override async getWeights(): Promise<NamedTensor[]> {
    return this.inner.getWeights();
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    await this.inner.setWeights(weightValues);
  }

  override dispose(): void {
    this.inner.dispose();
    super.dispose();
  }

  getConfig(): tf.serialization.ConfigDict {
    return { name: this.name, learningRate: this.lr, ...this.inner.getConfig(), ...(this.settings as unknown as tf.serialization.ConfigDict) };
  }
}

/** SGD with momentum 0.9 (torchvision's recipe; PyTorch's momentum form), Adam or AdamW, with PyTorch's weight decay. */
export function makeOptimizer(name: string, lr: number, momentum: number | OptimizerOptions = 0.9): RecipeOptimizer {
  return new RecipeOptimizer(name, lr, typeof momentum === 'number' ? { momentum } : momentum);
}

/** Softmax cross-entropy on the logits the model outputs (torchvision heads have no softmax). */
export function logitsCrossEntropy(labels: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  return tf.losses.softmaxCrossEntropy(labels, logits);
}

/**
 * Cross-entropy with label smoothing eps, as torch.nn.CrossEntropyLoss(label_smoothing=eps):
 * the target is (1 - eps) * y + eps / classes. eps 0 is logitsCrossEntropy.
 */
export function smoothedCrossEntropy(eps: number): (labels: tf.Tensor, logits: tf.Tensor) => tf.Tensor {
  if (!(eps >= 0 && eps < 1)) throw new UserError(`--label-smoothing must be in [0, 1), not ${eps}`);
  if (eps === 0) return logitsCrossEntropy;
  return (labels, logits) => tf.losses.softmaxCrossEntropy(labels, logits, undefined, eps);
}
