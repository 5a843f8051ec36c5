/** Padding arithmetic shared by the emitter: PyTorch's explicit pads vs TF's 'same'. */

/** TF 'same' padding [before, after] along one axis. */
export function tfSamePads(size: number, kernel: number, stride: number, dilation = 1): [number, number] {
  const out = Math.ceil(size / stride);
  const span = (kernel - 1) * dilation + 1;
  const total = Math.max((out - 1) * stride + span - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/**
 * How to express PyTorch padding [top, bottom, left, right] in TF: 'valid' when it is zero,
 * 'same' when TF's own 'same' pads are exactly these for this input, else 'explicit'
 * (an explicit padding layer then a 'valid' op).
 */
export function paddingMode(
  padding: readonly [number, number, number, number],
  input: readonly [number, number],
  kernel: readonly [number, number],
  stride: readonly [number, number],
  dilation: readonly [number, number] = [1, 1],
): 'valid' | 'same' | 'explicit' {
  const [t, b, l, r] = padding;
  if (t === 0 && b === 0 && l === 0 && r === 0) return 'valid';
  const [st, sb] = tfSamePads(input[0], kernel[0], stride[0], dilation[0]);
  const [sl, sr] = tfSamePads(input[1], kernel[1], stride[1], dilation[1]);
  return st === t && sb === b && sl === l && sr === r ? 'same' : 'explicit';
}
