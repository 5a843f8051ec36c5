import { paritySuite } from './suite.js';

// The pure-JS cpu backend is the slow one: its two widest models have a file of their own
// (cpu-wide.test.ts), so the two halves run in parallel.
paritySuite('cpu', ['resnet18', 'resnet50', 'cifar_resnet20', 'tiny_flatten']);
