/**
 * The ONNX protobuf messages, from the JSON descriptor scripts/gen-onnx-proto.ts makes of the
 * vendored onnx.proto (onnx 1.12, IR version 8), encoded and decoded by protobufjs.
 */
import protobuf from 'protobufjs/light.js';
import { ONNX_PROTO_JSON } from './generated/onnx_proto.js';

const root = protobuf.Root.fromJSON(ONNX_PROTO_JSON as unknown as protobuf.INamespace);

export const ModelProto = root.lookupType('onnx.ModelProto');

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;

/** AttributeProto.AttributeType values used here. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

// The subset of the messages the exporter writes, as plain objects for Type.fromObject
// (field names as in onnx.proto: the descriptor keeps their case).
export interface Dim {
  dim_value?: number;
  dim_param?: string;
}
export interface ValueInfo {
  name: string;
  type: { tensor_type: { elem_type: number; shape: { dim: Dim[] } } };
  doc_string?: string;
}
export interface Attribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  ints?: number[];
}
export interface Node {
  name: string;
  op_type: string;
  input: string[];
  output: string[];
  attribute: Attribute[];
  doc_string?: string;
}
export interface Tensor {
  name: string;
  dims: number[];
  data_type: number;
  float_data?: number[];
  int64_data?: number[];
  raw_data?: Uint8Array;
  doc_string?: string;
  /** 1: the data is in another file (external_data names it); skipgraph never writes this, infer reads it checked. */
  data_location?: number;
  external_data?: { key: string; value: string }[];
}
export interface Graph {
  name: string;
  node: Node[];
  initializer: Tensor[];
  input: ValueInfo[];
  output: ValueInfo[];
  value_info: ValueInfo[];
  doc_string?: string;
}
export interface Model {
  ir_version: number;
  opset_import: { domain: string; version: number }[];
  producer_name: string;
  producer_version: string;
  doc_string?: string;
  graph: Graph;
  metadata_props?: { key: string; value: string }[];
}

export function encodeModel(model: Model): Uint8Array {
  const err = ModelProto.verify(model);
  if (err) throw new Error(`skipgraph: internal error: the ONNX model does not fit onnx.proto: ${err}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** Decodes a model file into plain objects (int64 as numbers, bytes as Uint8Array). */
export function decodeModel(bytes: Uint8Array): Model {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, defaults: false, arrays: true }) as unknown as Model;
}
