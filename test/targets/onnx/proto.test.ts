/** The committed protobuf descriptor is what scripts/gen-onnx-proto.ts makes of the vendored onnx.proto. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generate, outPath } from '../../../scripts/gen-onnx-proto.js';
import { decodeModel, encodeModel } from '../../../src/targets/onnx/index.js';

describe('the ONNX protobuf bindings', () => {
  it('src/targets/onnx/generated/onnx_proto.ts is up to date (node --import tsx scripts/gen-onnx-proto.ts)', () => {
    expect(readFileSync(outPath, 'utf8')).toBe(generate());
  });

  it('encode and decode round-trip, int64 fields and raw bytes included', () => {
    const model = {
      ir_version: 8,
      opset_import: [{ domain: '', version: 17 }],
      producer_name: 'skipgraph',
      producer_version: '0',
      graph: {
        name: 'g',
        node: [{ name: 'r', op_type: 'Relu', input: ['x'], output: ['y'], attribute: [] }],
        initializer: [{ name: 'k', dims: [2], data_type: 7, int64_data: [3, 2 ** 40] }],
        input: [{ name: 'x', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'batch' }, { dim_value: 4 }] } } } }],
        output: [{ name: 'y', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'batch' }, { dim_value: 4 }] } } } }],
        value_info: [],
      },
    };
    const back = decodeModel(encodeModel(model));
    expect(back.ir_version).toBe(8);
    expect(back.graph.initializer[0].int64_data).toEqual([3, 2 ** 40]);
    expect(back.graph.input[0].type.tensor_type.shape.dim).toEqual([{ dim_param: 'batch' }, { dim_value: 4 }]);
  });
});
