/**
 * Image transforms on one sample held as HWC values in the set's stored units (bytes or [0, 1]
 * floats), before normalisation, so padding is black as in torchvision (which pads the image
 * before ToTensor/Normalize). Each follows its torchvision definition; see docs/training.md.
 * Hand-written: they are a few loops over typed arrays, and no maintained npm library works on
 * raw HWC arrays with a caller's seeded random stream.
 */
import type { Random } from '../random/index.js';

export interface Image {
  data: Float32Array;
  height: number;
  width: number;
  channels: number;
}

/** torchvision's hflip: column x becomes column width-1-x. */
export function hflip(img: Image): Image {
  const { data, height: h, width: w, channels: c } = img;
  const out = new Float32Array(data.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = data[(y * w + (w - 1 - x)) * c + k];
  return { ...img, data: out };
}

/**
 * The crop of `img` zero-padded by `pad` on every side, `outH` x `outW` from (top, left) of the
 * padded image (torchvision's RandomCrop(size, padding) once its offsets are drawn).
 */
export function padCrop(img: Image, pad: number, top: number, left: number, outH: number, outW: number): Image {
  const { data, height: h, width: w, channels: c } = img;
  const out = new Float32Array(outH * outW * c);
  for (let y = 0; y < outH; y++) {
    const sy = top + y - pad;
    if (sy < 0 || sy >= h) continue;
    for (let x = 0; x < outW; x++) {
      const sx = left + x - pad;
      if (sx < 0 || sx >= w) continue;
      for (let k = 0; k < c; k++) out[(y * outW + x) * c + k] = data[(sy * w + sx) * c + k];
    }
  }
  return { data: out, height: outH, width: outW, channels: c };
}

/**
 * The region (top, left, height, width) of `img` resized bilinearly to outH x outW, as
 * torch.nn.functional.interpolate(mode='bilinear', align_corners=False, antialias=False):
 * source = (dst + 0.5) * in / out - 0.5, clamped at 0; the next pixel clamped at the edge.
 */
export function cropResize(img: Image, top: number, left: number, ch: number, cw: number, outH: number, outW: number): Image {
  const { data, width: w, channels: c } = img;
  const out = new Float32Array(outH * outW * c);
  const index = (dst: number, inSize: number, outSize: number) => {
    const src = Math.max(0, ((dst + 0.5) * inSize) / outSize - 0.5);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = i0 < inSize - 1 ? i0 + 1 : i0;
    return [i0, i1, src - i0] as const;
  };
  const xs = Array.from({ length: outW }, (_, x) => index(x, cw, outW));
  for (let y = 0; y < outH; y++) {
    const [y0, y1, wy] = index(y, ch, outH);
    const r0 = (top + y0) * w;
    const r1 = (top + y1) * w;
    for (let x = 0; x < outW; x++) {
      const [x0, x1, wx] = xs[x];
      const a = (r0 + left + x0) * c;
      const b = (r0 + left + x1) * c;
      const d = (r1 + left + x0) * c;
      const e = (r1 + left + x1) * c;
      for (let k = 0; k < c; k++) {
        const top2 = data[a + k] * (1 - wx) + data[b + k] * wx;
        const bottom = data[d + k] * (1 - wx) + data[e + k] * wx;
        out[(y * outW + x) * c + k] = top2 * (1 - wy) + bottom * wy;
      }
    }
  }
  return { data: out, height: outH, width: outW, channels: c };
}

/** The whole image resized to outH x outW (cropResize of all of it). */
export function resize(img: Image, outH: number, outW: number): Image {
  if (img.height === outH && img.width === outW) return img;
  return cropResize(img, 0, 0, img.height, img.width, outH, outW);
}

/**
 * torchvision's RandomResizedCrop.get_params: up to 10 draws of an area fraction in `scale` and a
 * log-uniform aspect ratio in `ratio`; the first box that fits is placed uniformly; else the
 * centre crop with the ratio clamped into `ratio`.
 */
export function resizedCropBox(rng: Random, h: number, w: number, scale: [number, number], ratio: [number, number]): { top: number; left: number; height: number; width: number } {
  const area = h * w;
  const [lr0, lr1] = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(lr0, lr1));
    const cw = Math.round(Math.sqrt(target * aspect));
    const ch = Math.round(Math.sqrt(target / aspect));
    if (cw > 0 && cw <= w && ch > 0 && ch <= h) {
      const top = rng.int(0, h - ch + 1);
      const left = rng.int(0, w - cw + 1);
      return { top, left, height: ch, width: cw };
    }
  }
  const inRatio = w / h;
  let cw: number;
  let ch: number;
  if (inRatio < Math.min(...ratio)) {
    cw = w;
    ch = Math.round(cw / Math.min(...ratio));
  } else if (inRatio > Math.max(...ratio)) {
    ch = h;
    cw = Math.round(ch * Math.max(...ratio));
  } else {
    cw = w;
    ch = h;
  }
  return { top: Math.floor((h - ch) / 2), left: Math.floor((w - cw) / 2), height: ch, width: cw };
}
