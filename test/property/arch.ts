/**
 * Random valid architectures for property tests, and an independent model of what they must
 * compile to, in three files along their seams: arch_spec.ts (what a random architecture is, the
 * run count and seed), arch_gen.ts (the generator, drawing every op from the registry) and
 * arch_model.ts (the count by hand, from PyTorch's and torchvision's formulas).
 */
export { archArb, toYaml } from './arch_gen.js';
export { BY_REGISTRY, expected, type Expected } from './arch_model.js';
export { BUILTIN, outChannels, runs, SEED, USER, USER_BLOCKS, type Arch, type Layer, type Post, type Rule, type Stage } from './arch_spec.js';
