// coupledAdamStep and adamStep: validate everything, then hand the step to one backend.
import { BACKEND_CHOICES, resolveBackend } from './backends/registry.js';
import type {
  AdamOptions,
  AdamTensors,
  Backend,
  BackendChoice,
  CoupledAdamOptions,
  CoupledShape,
  CoupledTensors,
  Hyper,
  StepResult,
} from './types.js';
import { Checker } from './validate.js';

export const DEFAULTS = {
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0,
  avgScale: 1,
  backend: 'auto' as BackendChoice,
  checkFinite: true,
  vocabAxis: 0 as 0 | 1,
};

const ADAM_KEYS = ['step', 'lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'backend', 'checkFinite'];
const COUPLED_KEYS = [...ADAM_KEYS, 'rows', 'cols', 'avgScale', 'vocabAxis'];
const TENSOR_KEYS = ['param', 'grad', 'expAvg', 'expAvgSq'];

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
  const t = c.object('tensors', tensors);
  c.knownKeys('tensors', t, TENSOR_KEYS);
  const param = c.float32('tensors.param', t.param, length, lengthNote);
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

/** Everything coupledAdamStep checks, shared with the optimizer and async backends. */
export function checkCoupledCall(fn: string, tensors: unknown, options: unknown) {
  const c = new Checker(fn);
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
  const n = shape.rows * shape.cols;
  const t = checkTensors<CoupledTensors>(
    c, tensors, n, 'rows * cols', shape.cols, 'cols: one per hidden unit');
  return { tensors: t, shape, hyper, backend, checkFinite };
}

/** Everything adamStep checks. */
export function checkAdamCall(fn: string, tensors: unknown, options: unknown) {
  const c = new Checker(fn);
  const o = c.object('options', options);
  c.knownKeys('options', o, ADAM_KEYS);
  const hyper = checkHyper(c, o, 'options.');
  const backend = checkBackend(c, 'options.backend', o.backend);
  const checkFinite = checkFiniteFlag(c, 'options.checkFinite', o.checkFinite);
  const t = checkTensors<AdamTensors>(
    c, tensors, undefined, "param's length", undefined, "param's length");
  return { tensors: t, hyper, backend, checkFinite };
}

/**
 * One Coupled Adam step, in place: AdamW with the second moment averaged over the
 * vocabulary, one value per hidden unit (expAvgSq has `cols` elements).
 */
export function coupledAdamStep(tensors: CoupledTensors, options: CoupledAdamOptions): StepResult {
  const call = checkCoupledCall('coupledAdamStep', tensors, options);
  const backend: Backend = resolveBackend('coupledAdamStep', call.backend);
  const applied = backend.coupledStep(call.tensors, call.shape, call.hyper, call.checkFinite);
  return { applied, backend: backend.name };
}

/** One AdamW step, in place, with the semantics of torch.optim.AdamW. */
export function adamStep(tensors: AdamTensors, options: AdamOptions): StepResult {
  const call = checkAdamCall('adamStep', tensors, options);
  const backend = resolveBackend('adamStep', call.backend);
  const applied = backend.adamStep(call.tensors, call.hyper, call.checkFinite);
  return { applied, backend: backend.name };
}
