/** The torch target's one error: a graph PyTorch cannot hold as modules (a message for the user), or a broken invariant ("internal: ..."). */
export class TorchEmitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TorchEmitError';
  }
}
