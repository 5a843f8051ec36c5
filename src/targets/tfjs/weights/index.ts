export * from '../../../formats/safetensors.js';
export {
  checkStateDict,
  formatProblems,
  hasProblems,
  IGNORED_SUFFIXES,
  layerVariable,
  StateDictError,
  stateDictSlots,
  type ParamSlot,
  type StateDictProblems,
  type TensorMeta,
  type TfVariable,
} from './state_dict.js';
export { loadStateDict, readStateDict, stateDictBytes, type LoadOptions, type LoadReport } from './load.js';
export { NonFiniteError, valueProblem, ValueCheck } from '../../../formats/finite.js';
