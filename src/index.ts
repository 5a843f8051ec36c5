/**
 * skipgraph: parse and compile residual-network descriptions. This entry point never loads
 * TensorFlow.js; the runtime (buildModel, training, backends) is `skipgraph/runtime`.
 */
export * from './parser/files.js';
export * from './compiler/files.js';
