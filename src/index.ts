// coupled-adam for Node: every backend this platform can have, registered in 'auto' order.
import { jsProvider } from './backends/js-provider.js';
import { nativeProvider } from './backends/native.js';
import { cudaProvider } from './backends/cuda.js';
import { registerBackend } from './backends/registry.js';
import { gpujsNodeProvider } from './backends/gpujs/node.js';

registerBackend(jsProvider);
registerBackend(nativeProvider);
registerBackend(gpujsNodeProvider);
registerBackend(cudaProvider);

export { coupledAdamStep, adamStep, DEFAULTS } from './steps.js';
export { CoupledAdam } from './optimizer.js';
export type { ParamSpec, ParamGroup, CoupledAdamConfig, Group, OptimizerStepResult } from './optimizer.js';
export { backends } from './backends/registry.js';
export { nativeThreads } from './backends/native.js';
export { coupledAdamStepAsync, adamStepAsync } from './backends/gpujs/async.js';
export { configureGpuJs } from './backends/gpujs/node.js';
export type { GpuJsConfig } from './backends/gpujs/provider.js';
export type { GpuJsMode } from './backends/gpujs/backend.js';
export { CudaArray, cudaSynchronize } from './backends/cuda.js';
export {
  coupledSecondMomentFromFull,
  stateToJSON,
  stateFromJSON,
  STATE_FORMAT,
  STATE_VERSION,
} from './state.js';
export type { OptimizerState, ParamState } from './state.js';
export type * from './types.js';
