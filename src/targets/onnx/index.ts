/**
 * skipgraph's ONNX target: a compiled graph and a name -> Float32Array map (PyTorch's names and
 * layouts) as an ONNX model. It imports the compiler and protobufjs only (no TF.js).
 */
export { BATCH_DIM, docString, exportOnnx, IR_VERSION, OnnxExportError, OPSET, PROTOBUF_LIMIT, protobufLimitProblem, type ExportOptions, type ExportResult } from './export.js';
export { checkWeights, paramSpecs, WeightsMismatchError, type ParamSpec, type WeightMap } from './params.js';
export { torchvisionInit } from './init.js';
export { foldConvBn } from './fold.js';
export { decodeModel, encodeModel, ModelProto, type Model } from './proto.js';
