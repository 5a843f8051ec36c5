import { paritySuite } from './suite.js';

paritySuite('cpu');
