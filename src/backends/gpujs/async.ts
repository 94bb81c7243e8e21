// The promise forms of coupledAdamStep and adamStep: the same tensors, options and checks,
// for backends whose work is asynchronous (gpujs in its webgpu mode). On a synchronous
// backend they run the ordinary step and resolve to its result.
import { resolveBackend } from '../registry.js';
import { checkAdamCall, checkCoupledCall } from '../../steps.js';
import type {
  AdamOptions,
  AdamTensors,
  CoupledAdamOptions,
  CoupledTensors,
  StepResult,
} from '../../types.js';

/** coupledAdamStep as a promise; invalid arguments reject with the same messages. */
export async function coupledAdamStepAsync(
  tensors: CoupledTensors,
  options: CoupledAdamOptions,
): Promise<StepResult> {
  const call = checkCoupledCall('coupledAdamStepAsync', tensors, options);
  const b = resolveBackend('coupledAdamStepAsync', call.backend);
  const { shape, hyper, checkFinite } = call;
  const applied = b.coupledStepAsync
    ? await b.coupledStepAsync(call.tensors, shape, hyper, checkFinite)
    : b.coupledStep(call.tensors, shape, hyper, checkFinite);
  return { applied, backend: b.name };
}

/** adamStep as a promise. */
export async function adamStepAsync(
  tensors: AdamTensors,
  options: AdamOptions,
): Promise<StepResult> {
  const call = checkAdamCall('adamStepAsync', tensors, options);
  const b = resolveBackend('adamStepAsync', call.backend);
  const applied = b.adamStepAsync
    ? await b.adamStepAsync(call.tensors, call.hyper, call.checkFinite)
    : b.adamStep(call.tensors, call.hyper, call.checkFinite);
  return { applied, backend: b.name };
}
