// coupledAdamStep and adamStep: validate everything, then hand the step to one backend.
import { BACKEND_CHOICES, resolveBackend } from './backends/registry.js';
import { checkDeviceTensors, hasDeviceArray, resolveDeviceBackend } from './device.js';
import type {
  AdamOptions,
  AdamTensors,
  Backend,
  BackendChoice,
  CoupledAdamOptions,
  CoupledShape,
  CoupledTensors,
  DeviceAdamTensors,
  DeviceCoupledTensors,
  Hyper,
  StepResult,
} from './types.js';
import { Checker } from './validate.js';

/** The option defaults, frozen: a default changed at run time would change every later call. */
export const DEFAULTS: Readonly<
  Omit<Hyper, 'step'> & { backend: BackendChoice; checkFinite: boolean; vocabAxis: 0 | 1 }
> = Object.freeze({
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0,
  avgScale: 1,
  backend: 'auto',
  checkFinite: true,
  vocabAxis: 0,
});

const ADAM_KEYS = ['step', 'lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'backend', 'checkFinite'];
const COUPLED_KEYS = [...ADAM_KEYS, 'rows', 'cols', 'avgScale', 'vocabAxis'];

/** Hyperparameters with defaults filled in, each checked against its range. */
export function checkHyper(
  c: Checker,
  o: Record<string, unknown>,
  prefix: string,
  withStep = true,
): Hyper {
  const pick = <K extends keyof typeof DEFAULTS>(key: K) => o[key] ?? DEFAULTS[key];
  return {
    lr: c.number(`${prefix}lr`, pick('lr'), 0),
    beta1: c.number(`${prefix}beta1`, pick('beta1'), 0, 1),
    beta2: c.number(`${prefix}beta2`, pick('beta2'), 0, 1),
    eps: c.number(`${prefix}eps`, pick('eps'), 0),
    weightDecay: c.number(`${prefix}weightDecay`, pick('weightDecay'), 0),
    avgScale: c.number(`${prefix}avgScale`, pick('avgScale'), 0, Infinity, true),
    step: withStep ? c.positiveInteger(`${prefix}step`, o.step) : 1,
  };
}

export function checkBackend(c: Checker, argument: string, value: unknown): BackendChoice {
  const choice = value ?? DEFAULTS.backend;
  if (!BACKEND_CHOICES.includes(choice as BackendChoice)) {
    c.type(argument, `one of ${BACKEND_CHOICES.map((b) => `'${b}'`).join(', ')}`, value);
  }
  return choice as BackendChoice;
}

export function checkVocabAxis(c: Checker, argument: string, value: unknown): 0 | 1 {
  const axis = value ?? DEFAULTS.vocabAxis;
  if (axis !== 0 && axis !== 1) c.range(argument, '0 or 1', value);
  return axis;
}

export function checkFiniteFlag(c: Checker, argument: string, value: unknown): boolean {
  return c.boolean(argument, value ?? DEFAULTS.checkFinite);
}

function checkTensors<T extends AdamTensors>(
  c: Checker,
  tensors: unknown,
  length: number | undefined,
  lengthNote: string,
  sqLength: number | undefined,
  sqNote: string,
): T {
  const t = c.tensors(tensors);
  const param = c.float32('tensors.param', t.param, length, lengthNote);
  // (the addon refuses an empty tensor, and a detached buffer reads as one)
  if (param.length === 0) c.range('tensors.param', 'a non-empty Float32Array', param);
  const n = length ?? param.length;
  const grad = c.float32('tensors.grad', t.grad, n, lengthNote);
  const expAvg = c.float32('tensors.expAvg', t.expAvg, n, lengthNote);
  const expAvgSq = c.float32('tensors.expAvgSq', t.expAvgSq, sqLength ?? n, sqNote);
  c.disjoint([
    ['tensors.param', param],
    ['tensors.grad', grad],
    ['tensors.expAvg', expAvg],
    ['tensors.expAvgSq', expAvgSq],
  ]);
  return { param, grad, expAvg, expAvgSq } as T;
}

function checkCoupledOptions(c: Checker, options: unknown) {
  const o = c.object('options', options);
  c.knownKeys('options', o, COUPLED_KEYS);
  const shape: CoupledShape = {
    rows: c.positiveInteger('options.rows', o.rows),
    cols: c.positiveInteger('options.cols', o.cols),
    vocabAxis: checkVocabAxis(c, 'options.vocabAxis', o.vocabAxis),
  };
  const hyper = checkHyper(c, o, 'options.');
  const backend = checkBackend(c, 'options.backend', o.backend);
  const checkFinite = checkFiniteFlag(c, 'options.checkFinite', o.checkFinite);
  return { shape, hyper, backend, checkFinite };
}

/** Everything coupledAdamStep checks, shared with the optimizer and async backends. */
export function checkCoupledCall(fn: string, tensors: unknown, options: unknown) {
  const c = new Checker(fn);
  const call = checkCoupledOptions(c, options);
  const n = call.shape.rows * call.shape.cols;
  const t = checkTensors<CoupledTensors>(
    c, tensors, n, 'rows * cols', call.shape.cols, 'cols: one per hidden unit');
  return { tensors: t, ...call };
}

/** The same checks as checkCoupledCall, for tensors in device memory. */
export function checkDeviceCoupledCall(fn: string, tensors: unknown, options: unknown) {
  const c = new Checker(fn);
  const call = checkCoupledOptions(c, options);
  const n = call.shape.rows * call.shape.cols;
  const t = checkDeviceTensors(
    c, tensors, n, 'rows * cols', call.shape.cols, 'cols: one per hidden unit');
  return { tensors: t, ...call };
}

function checkAdamOptions(c: Checker, options: unknown) {
  const o = c.object('options', options);
  c.knownKeys('options', o, ADAM_KEYS);
  const hyper = checkHyper(c, o, 'options.');
  const backend = checkBackend(c, 'options.backend', o.backend);
  const checkFinite = checkFiniteFlag(c, 'options.checkFinite', o.checkFinite);
  return { hyper, backend, checkFinite };
}

/** Everything adamStep checks. */
export function checkAdamCall(fn: string, tensors: unknown, options: unknown) {
  const c = new Checker(fn);
  const call = checkAdamOptions(c, options);
  const t = checkTensors<AdamTensors>(
    c, tensors, undefined, "param's length", undefined, "param's length");
  return { tensors: t, ...call };
}

/** The same checks as checkAdamCall, for tensors in device memory. */
export function checkDeviceAdamCall(fn: string, tensors: unknown, options: unknown) {
  const c = new Checker(fn);
  const call = checkAdamOptions(c, options);
  const t = checkDeviceTensors(
    c, tensors, undefined, "param's length", undefined, "param's length");
  return { tensors: t, ...call };
}

/**
 * One Coupled Adam step, in place: AdamW with the second moment averaged over the
 * vocabulary, one value per hidden unit (expAvgSq has `cols` elements). With device arrays
 * (CudaArray) the step is queued on the device; with checkFinite it waits for the verdict.
 */
export function coupledAdamStep(
  tensors: CoupledTensors | DeviceCoupledTensors,
  options: CoupledAdamOptions,
): StepResult {
  if (hasDeviceArray(tensors)) {
    const call = checkDeviceCoupledCall('coupledAdamStep', tensors, options);
    const backend = resolveDeviceBackend('coupledAdamStep', call.backend);
    const applied = backend.device.coupledStep(
      call.tensors, call.shape, call.hyper, call.checkFinite);
    return { applied, backend: backend.name };
  }
  const call = checkCoupledCall('coupledAdamStep', tensors, options);
  const backend: Backend = resolveBackend('coupledAdamStep', call.backend);
  const applied = backend.coupledStep(call.tensors, call.shape, call.hyper, call.checkFinite);
  return { applied, backend: backend.name };
}

/** One AdamW step, in place, with the semantics of torch.optim.AdamW; device arrays too. */
export function adamStep(
  tensors: AdamTensors | DeviceAdamTensors,
  options: AdamOptions,
): StepResult {
  if (hasDeviceArray(tensors)) {
    const call = checkDeviceAdamCall('adamStep', tensors, options);
    const backend = resolveDeviceBackend('adamStep', call.backend);
    const applied = backend.device.adamStep(call.tensors, call.hyper, call.checkFinite);
    return { applied, backend: backend.name };
  }
  const call = checkAdamCall('adamStep', tensors, options);
  const backend = resolveBackend('adamStep', call.backend);
  const applied = backend.adamStep(call.tensors, call.hyper, call.checkFinite);
  return { applied, backend: backend.name };
}
