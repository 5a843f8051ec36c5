export { describeOp, formatShape } from './describe.js';
export { formatDot } from './dot.js';
export { formatExplain } from './explain.js';
export { formatJson, toJson } from './json.js';
export { formatTable, type TableOptions } from './table.js';
