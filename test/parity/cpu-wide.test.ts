import { paritySuite } from './suite.js';

paritySuite('cpu', ['resnext50_32x4d', 'wide_resnet50_2'], 'wide');
