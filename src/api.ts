// The API every entry point shares (src/index.ts for Node, src/browser.ts for browsers); each
// entry adds the backends its platform can have and their platform-specific functions.
export { coupledAdamStep, adamStep, DEFAULTS } from './steps.js';
export { CoupledAdam } from './optimizer.js';
export type {
  ParamSpec,
  ParamGroup,
  CoupledAdamConfig,
  Group,
  OptimizerStepResult,
} from './optimizer.js';
export { backends } from './backends/registry.js';
export { coupledAdamStepAsync, adamStepAsync } from './backends/gpujs/async.js';
export type { GpuJsConfig } from './backends/gpujs/provider.js';
export type { GpuJsMode } from './backends/gpujs/backend.js';
export {
  coupledSecondMomentFromFull,
  stateToJSON,
  stateFromJSON,
  STATE_FORMAT,
  STATE_VERSION,
} from './state.js';
export type { OptimizerState, ParamState } from './state.js';
export type * from './types.js';
