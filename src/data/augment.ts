import { UserError } from '../errors/index.js';
import type { Random } from '../random/index.js';
import { cropResize, hflip, padCrop, resizedCropBox, type Image } from './transforms.js';

/**
 * Training-split augmentation, in torchvision's order: a crop (RandomCrop with padding, or
 * RandomResizedCrop) back to the set's size, then RandomHorizontalFlip, per sample; then, per
 * batch, timm's Mixup/CutMix on the normalised batch and its one-hot labels.
 */
export interface AugmentOptions {
  /** RandomCrop(size, padding): zero padding on every side (CIFAR recipes: 4). */
  crop?: { padding: number };
  /** RandomResizedCrop(size, scale, ratio); defaults (0.08, 1) and (3/4, 4/3). */
  resizedCrop?: { scale?: [number, number]; ratio?: [number, number] };
  /** RandomHorizontalFlip(p): the probability of a flip (0.5). */
  flip?: number;
  /** Mixup's alpha (Beta(alpha, alpha) mixing weight); 0 or absent: off. */
  mixup?: number;
  /** CutMix's alpha; 0 or absent: off. */
  cutmix?: number;
  /** The probability that a batch is mixed at all (timm's mixup_prob, 1). */
  mixProb?: number;
  /** With both on, the probability of cutmix rather than mixup (timm's switch_prob, 0.5). */
  switchProb?: number;
}

export const AUGMENT_WORDS = ['none', 'crop[:PAD]', 'rrc[:MINSCALE]', 'flip[:P]', 'mixup[:ALPHA]', 'cutmix[:ALPHA]'];

/**
 * `--augment`: words joined by '+' (or ','): `crop` (padding 4) or `crop:P`, `rrc` or
 * `rrc:MINSCALE` (random-resized crop), `flip` or `flip:P`, `mixup` (alpha 0.2) or `mixup:A`,
 * `cutmix` (alpha 1) or `cutmix:A`; `none` for nothing. E.g. `crop+flip`, `rrc+flip+cutmix`.
 */
export function parseAugment(spec: string): AugmentOptions {
  const out: AugmentOptions = {};
  const words = spec.split(/[+,]/).map((w) => w.trim()).filter((w) => w !== '');
  for (const word of words) {
    const [name, arg, extra] = word.split(':');
    const num = (fallback: number, ok: (v: number) => boolean, what: string) => {
      if (extra !== undefined) throw new UserError(`--augment: '${word}' has more than one ':'`);
      if (arg === undefined) return fallback;
      const v = Number(arg);
      if (arg === '' || !Number.isFinite(v) || !ok(v)) throw new UserError(`--augment: '${word}' needs ${what}, not '${arg}'`);
      return v;
    };
    switch (name) {
      case 'none':
        if (words.length > 1) throw new UserError(`--augment: 'none' cannot be combined with other words`);
        break;
      case 'crop':
        out.crop = { padding: num(4, (v) => Number.isSafeInteger(v) && v >= 0, 'a whole number of padding pixels') };
        break;
      case 'rrc':
        out.resizedCrop = { scale: [num(0.08, (v) => v > 0 && v <= 1, 'a minimum area fraction in (0, 1]'), 1] };
        break;
      case 'flip':
        out.flip = num(0.5, (v) => v >= 0 && v <= 1, 'a probability in [0, 1]');
        break;
      case 'mixup':
        out.mixup = num(0.2, (v) => v > 0, 'a positive alpha');
        break;
      case 'cutmix':
        out.cutmix = num(1, (v) => v > 0, 'a positive alpha');
        break;
      default:
        throw new UserError(`--augment: unknown word '${name}'; use ${AUGMENT_WORDS.join(', ')}, joined by '+'`);
    }
  }
  if (out.crop && out.resizedCrop) throw new UserError(`--augment: choose one of 'crop' and 'rrc'`);
  return out;
}

/** Whether `a` changes anything. */
export function augments(a: AugmentOptions | undefined): boolean {
  return a !== undefined && (a.crop !== undefined || a.resizedCrop !== undefined || (a.flip ?? 0) > 0 || (a.mixup ?? 0) > 0 || (a.cutmix ?? 0) > 0);
}

/** The per-sample part: the crop drawn, then the flip drawn (RNG used in that order). */
export function augmentSample(rng: Random, img: Image, a: AugmentOptions): Image {
  const { height: h, width: w } = img;
  let out = img;
  if (a.crop) {
    const p = a.crop.padding;
    const top = rng.int(0, h + 2 * p - h + 1);
    const left = rng.int(0, w + 2 * p - w + 1);
    out = padCrop(out, p, top, left, h, w);
  } else if (a.resizedCrop) {
    const box = resizedCropBox(rng, h, w, a.resizedCrop.scale ?? [0.08, 1], a.resizedCrop.ratio ?? [3 / 4, 4 / 3]);
    out = cropResize(out, box.top, box.left, box.height, box.width, h, w);
  }
  if (a.flip !== undefined && a.flip > 0 && rng.next() < a.flip) out = hflip(out);
  return out;
}

/**
 * timm's Mixup in 'batch' mode, in place on the normalised NHWC batch `x` and its one-hot
 * labels `y`: with probability mixProb, draw lam ~ Beta(alpha, alpha) and mix each sample with
 * the batch reversed (sample n-1-k): mixup blends whole images; cutmix pastes the box of
 * timm's rand_bbox (side sqrt(1 - lam) of the image, centre uniform, clipped) and corrects lam
 * to the pasted area. Labels become lam * y + (1 - lam) * reversed y. Returns lam (1: unmixed).
 */
export function mixBatch(rng: Random, x: Float32Array, y: Float32Array, n: number, h: number, w: number, c: number, classes: number, a: AugmentOptions): number {
  const mixup = a.mixup ?? 0;
  const cutmix = a.cutmix ?? 0;
  if ((mixup <= 0 && cutmix <= 0) || n < 2) return 1;
  if (rng.next() >= (a.mixProb ?? 1)) return 1;
  const useCutmix = mixup > 0 && cutmix > 0 ? rng.next() < (a.switchProb ?? 0.5) : cutmix > 0;
  let lam = useCutmix ? rng.beta(cutmix, cutmix) : rng.beta(mixup, mixup);
  const per = h * w * c;
  const src = x.slice();
  if (useCutmix) {
    const rat = Math.sqrt(1 - lam);
    const cutH = Math.floor(h * rat);
    const cutW = Math.floor(w * rat);
    const cy = rng.int(0, h);
    const cx = rng.int(0, w);
    const clip = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
    const [yl, yh] = [clip(cy - Math.floor(cutH / 2), h), clip(cy + Math.floor(cutH / 2), h)];
    const [xl, xh] = [clip(cx - Math.floor(cutW / 2), w), clip(cx + Math.floor(cutW / 2), w)];
    for (let k = 0; k < n; k++) {
      const from = (n - 1 - k) * per;
      for (let yy = yl; yy < yh; yy++)
        for (let xx = xl; xx < xh; xx++)
          for (let ch = 0; ch < c; ch++) {
            const p = (yy * w + xx) * c + ch;
            x[k * per + p] = src[from + p];
          }
    }
    lam = 1 - ((yh - yl) * (xh - xl)) / (h * w);
  } else {
    for (let k = 0; k < n; k++) {
      const from = (n - 1 - k) * per;
      for (let p = 0; p < per; p++) x[k * per + p] = src[k * per + p] * lam + src[from + p] * (1 - lam);
    }
  }
  const labels = y.slice();
  for (let k = 0; k < n; k++)
    for (let j = 0; j < classes; j++) y[k * classes + j] = labels[k * classes + j] * lam + labels[(n - 1 - k) * classes + j] * (1 - lam);
  return lam;
}
