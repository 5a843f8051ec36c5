/**
 * skipgraph's PyTorch target: a compiled graph as one self-contained Python file (docs/torch.md).
 * It imports the compiler only (no TF.js, no other target).
 */
export { emitTorch, TorchEmitError, type TorchEmitOptions } from './emit.js';
