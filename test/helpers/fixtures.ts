/**
 * Architecture fixtures that several test files train or emit, written once (helpers/yaml.ts's
 * `arch()` with the parts that make them). A test that needs a file of its own shape keeps it
 * inline, next to what it asserts.
 */
import { arch } from './yaml.js';

/**
 * The smallest model the trainers train: 8x8 grey images, a 3x3 conv stem and one basic block,
 * both `width` channels wide, global average pool and a dense layer (projection shortcuts).
 */
export function tinyGreyYaml(width: number, classes = 10): string {
  return arch({
    input: '{ height: 8, width: 8, channels: 1 }',
    classes,
    stem: `  - { op: conv, filters: ${width}, kernel: 3 }\n  - { op: bn }\n  - { op: relu }`,
    stages: `  - { block: basic, channels: ${width}, blocks: 1, stride: 1 }`,
  });
}
