import { paritySuite } from './suite.js';

paritySuite('wasm');
