// Bad input: the exact message for each kind of mistake, and nothing modified by a failed call.
import { describe, expect, it } from 'vitest';

import {
  adamStep, CoupledAdam, coupledAdamStep, coupledSecondMomentFromFull, DEFAULTS,
} from '../src/index.js';

function tensors(rows = 3, cols = 4) {
  const n = rows * cols;
  return {
    param: Float32Array.from({ length: n }, (_, k) => k),
    grad: Float32Array.from({ length: n }, (_, k) => 1 + k),
    expAvg: new Float32Array(n).fill(0.5),
    expAvgSq: new Float32Array(cols).fill(0.25),
  };
}

type Call = [string, (t: ReturnType<typeof tensors>) => unknown, ErrorConstructor, string];

const C = 'coupledAdamStep: expected ';
const base = { rows: 3, cols: 4, step: 1 };
const coupledCases: Call[] = [
  ['a Float64Array param', (t) => coupledAdamStep({ ...t, param: new Float64Array(12) as never }, base),
    TypeError, `${C}a Float32Array for tensors.param but received Float64Array(12)`],
  ['a plain array grad', (t) => coupledAdamStep({ ...t, grad: [1, 2] as never }, base),
    TypeError, `${C}a Float32Array for tensors.grad but received Array(2)`],
  ['a missing expAvg', (t) => coupledAdamStep({ ...t, expAvg: undefined as never }, base),
    TypeError, `${C}a Float32Array for tensors.expAvg but received undefined`],
  ['a short grad', (t) => coupledAdamStep({ ...t, grad: new Float32Array(11) }, base),
    RangeError, `${C}a Float32Array of 12 elements (rows * cols) for tensors.grad but received Float32Array(11)`],
  ['a full-size expAvgSq', (t) => coupledAdamStep({ ...t, expAvgSq: new Float32Array(12) }, base),
    RangeError, `${C}a Float32Array of 4 elements (cols: one per hidden unit) for tensors.expAvgSq but received Float32Array(12)`],
  ['rows 0', (t) => coupledAdamStep(t, { ...base, rows: 0 }),
    RangeError, `${C}a positive integer for options.rows but received 0`],
  ['fractional cols', (t) => coupledAdamStep(t, { ...base, cols: 2.5 }),
    RangeError, `${C}a positive integer for options.cols but received 2.5`],
  ['a string step', (t) => coupledAdamStep(t, { ...base, step: '1' as never }),
    TypeError, `${C}a positive integer for options.step but received "1"`],
  ['step 0 (steps are 1-based)', (t) => coupledAdamStep(t, { ...base, step: 0 }),
    RangeError, `${C}a positive integer for options.step but received 0`],
  ['a negative lr', (t) => coupledAdamStep(t, { ...base, lr: -1e-3 }),
    RangeError, `${C}a finite number >= 0 for options.lr but received -0.001`],
  ['a NaN lr', (t) => coupledAdamStep(t, { ...base, lr: NaN }),
    RangeError, `${C}a finite number >= 0 for options.lr but received NaN`],
  ['beta1 = 1', (t) => coupledAdamStep(t, { ...base, beta1: 1 }),
    RangeError, `${C}a number in [0, 1) for options.beta1 but received 1`],
  ['a negative beta2', (t) => coupledAdamStep(t, { ...base, beta2: -0.1 }),
    RangeError, `${C}a number in [0, 1) for options.beta2 but received -0.1`],
  ['an infinite eps', (t) => coupledAdamStep(t, { ...base, eps: Infinity }),
    RangeError, `${C}a finite number >= 0 for options.eps but received Infinity`],
  ['a negative weightDecay', (t) => coupledAdamStep(t, { ...base, weightDecay: -0.1 }),
    RangeError, `${C}a finite number >= 0 for options.weightDecay but received -0.1`],
  ['avgScale 0', (t) => coupledAdamStep(t, { ...base, avgScale: 0 }),
    RangeError, `${C}a finite number > 0 for options.avgScale but received 0`],
  ['vocabAxis 2', (t) => coupledAdamStep(t, { ...base, vocabAxis: 2 as never }),
    RangeError, `${C}0 or 1 for options.vocabAxis but received 2`],
  ['an unknown backend', (t) => coupledAdamStep(t, { ...base, backend: 'webgpu' as never }),
    TypeError, `${C}one of 'auto', 'js', 'native', 'cuda', 'gpujs' for options.backend but received "webgpu"`],
  ['a misspelt option', (t) => coupledAdamStep(t, { ...base, weight_decay: 0.1 } as never),
    TypeError, 'coupledAdamStep: expected only the keys step, lr, beta1, beta2, eps, weightDecay, ' +
      'backend, checkFinite, rows, cols, avgScale, vocabAxis in options but received "weight_decay"'],
  ['a non-boolean checkFinite', (t) => coupledAdamStep(t, { ...base, checkFinite: 1 as never }),
    TypeError, `${C}a boolean for options.checkFinite but received 1`],
  ['no options', (t) => coupledAdamStep(t, undefined as never),
    TypeError, `${C}an object for options but received undefined`],
  ['no tensors', () => coupledAdamStep(null as never, base),
    TypeError, `${C}an object for tensors but received null`],
  ['grad aliasing param', (t) => coupledAdamStep({ ...t, grad: t.param }, base),
    RangeError, `${C}memory separate from tensors.param for tensors.grad but received a view of the same bytes`],
  ['expAvgSq overlapping expAvg', (t) => {
    const shared = new Float32Array(14);
    return coupledAdamStep({ ...t, expAvg: shared.subarray(0, 12), expAvgSq: shared.subarray(10) }, base);
  }, RangeError, `${C}memory separate from tensors.expAvg for tensors.expAvgSq but received a view of the same bytes`],
];

const A = 'adamStep: expected ';
const adamCases: Call[] = [
  ['an Int32Array param', (t) => adamStep({ ...t, param: new Int32Array(12) as never, expAvgSq: new Float32Array(12) }, { step: 1 }),
    TypeError, `${A}a Float32Array for tensors.param but received Int32Array(12)`],
  ['a coupled-size expAvgSq', (t) => adamStep(t, { step: 1 }),
    RangeError, `${A}a Float32Array of 12 elements (param's length) for tensors.expAvgSq but received Float32Array(4)`],
  ['an avgScale', (t) => adamStep({ ...t, expAvgSq: new Float32Array(12) }, { step: 1, avgScale: 2 } as never),
    TypeError, 'adamStep: expected only the keys step, lr, beta1, beta2, eps, weightDecay, backend, ' +
      'checkFinite in options but received "avgScale"'],
  ['no step', (t) => adamStep({ ...t, expAvgSq: new Float32Array(12) }, {} as never),
    TypeError, `${A}a positive integer for options.step but received undefined`],
  ['empty tensors (the addon refused them in its own words, js stepped nothing)', () => {
    const empty = () => new Float32Array(0);
    return adamStep({ param: empty(), grad: empty(), expAvg: empty(), expAvgSq: empty() }, { step: 1 });
  }, RangeError, `${A}a non-empty Float32Array for tensors.param but received Float32Array(0)`],
  ['a Proxy of a Float32Array', (t) => adamStep({ ...t, param: new Proxy(t.param, {}), expAvgSq: new Float32Array(12) }, { step: 1 }),
    TypeError, `${A}a Float32Array for tensors.param but received an object that only inherits from Float32Array (a Proxy?)`],
  ['an Int32Array given Float32Array.prototype', (t) => adamStep({ ...t, grad: Object.setPrototypeOf(new Int32Array(12), Float32Array.prototype), expAvgSq: new Float32Array(12) }, { step: 1 }),
    TypeError, `${A}a Float32Array for tensors.grad but received an object that only inherits from Float32Array (a Proxy?)`],
  ['a subclass whose length lies', (t) => {
    class Longer extends Float32Array { override get length() { return 12; } }
    return adamStep({ ...t, param: new Longer(0), expAvgSq: new Float32Array(12) }, { step: 1 });
  }, TypeError, `${A}a Float32Array for tensors.param but received a Longer whose length getter says 12`],
  ['a subclass whose buffer getter hides an alias', (t) => {
    class Elsewhere extends Float32Array { override get buffer() { return new ArrayBuffer(48); } }
    const grad = new Elsewhere(t.param.buffer);
    return adamStep({ ...t, grad, expAvgSq: new Float32Array(12) }, { step: 1 });
  }, RangeError, `${A}memory separate from tensors.param for tensors.grad but received a view of the same bytes`],
  ['a tensors getter that detaches param after param was read', (t) => {
    const param = t.param.slice();
    let reads = 0;
    const tensors = { ...t, param, get expAvgSq() {
      // the 2nd read is validation's (the 1st looks for device arrays)
      if (++reads === 2) structuredClone(param.buffer, { transfer: [param.buffer] });
      return new Float32Array(12);
    } };
    return adamStep(tensors, { step: 1, backend: 'js' });
  }, RangeError, `${A}a non-empty Float32Array for tensors.param but received Float32Array(0)`],
];

describe.each([
  ['coupledAdamStep', coupledCases],
  ['adamStep', adamCases],
] as const)('%s rejects', (_fn, cases) => {
  it.each(cases)('%s', (_what, call, kind, message) => {
    const t = tensors();
    const before = structuredClone(t);
    let thrown: unknown;
    try {
      call(t);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(kind);
    expect((thrown as Error).message).toBe(message);
    expect(t).toEqual(before);
  });
});

describe('CoupledAdam rejects', () => {
  const spec = () => ({ name: 'wte', param: new Float32Array(12), grad: new Float32Array(12) });

  it.each([
    ['no parameters', () => new CoupledAdam([]), TypeError,
      'CoupledAdam: expected a non-empty array of parameters or parameter groups for params but received Array(0)'],
    ['a duplicate name', () => new CoupledAdam([spec(), spec()]), RangeError,
      'CoupledAdam: expected a name not used by another parameter for params[0].params[1].name but received "wte"'],
    ['a grad of another length', () => new CoupledAdam([{ ...spec(), grad: new Float32Array(3) }]), RangeError,
      "CoupledAdam: expected a Float32Array of 12 elements (param's length) for params[0].params[0].grad but received Float32Array(3)"],
    ['an embedding shape that does not fit', () => new CoupledAdam([{ ...spec(), embedding: { rows: 5, cols: 3 } }]), RangeError,
      'CoupledAdam: expected a Float32Array of 15 elements (embedding.rows * embedding.cols) for params[0].params[0].param but received Float32Array(12)'],
    ['a shared grad buffer', () => {
      const grad = new Float32Array(12);
      return new CoupledAdam([{ ...spec(), grad }, { name: 'b', param: new Float32Array(12), grad }]);
    }, RangeError, 'CoupledAdam: expected memory separate from wte.grad for b.grad but received a view of the same bytes'],
    ['a group lr of -1', () => new CoupledAdam([{ params: [spec()], lr: -1 }]), RangeError,
      'CoupledAdam: expected a finite number >= 0 for params[0].lr but received -1'],
    ['a misspelt config key', () => new CoupledAdam([spec()], { betas: [0.9, 0.95] } as never), TypeError,
      'CoupledAdam: expected only the keys lr, beta1, beta2, eps, weightDecay, avgScale, backend, checkFinite in config but received "betas"'],
  ] as const)('%s', (_what, make, kind, message) => {
    expect(make).toThrow(kind);
    expect(make).toThrow(message);
  });

  it('nothing a getter returns after its check: each property of a parameter is read once', () => {
    let reads = 0;
    const s = { get name() { return reads++ === 0 ? 'wte' : 7; }, param: new Float32Array(4), grad: new Float32Array(4) };
    // the group's names and the state's keys used to come from different reads
    const opt = new CoupledAdam([s as never]);
    expect(reads).toBe(1);
    expect(opt.groups[0].params).toEqual(['wte']);
    expect(Object.keys(opt.stateDict().params)).toEqual(['wte']);
    expect(() => opt.loadStateDict(opt.stateDict())).not.toThrow();
  });

  it('an lr set to NaN between steps, before touching anything', () => {
    const s = spec();
    s.grad.fill(1);
    const opt = new CoupledAdam([s]);
    opt.groups[0].lr = NaN;
    expect(() => opt.step()).toThrow(
      'CoupledAdam.step: expected a finite number >= 0 for groups[0].lr but received NaN');
    expect(s.param.every((x) => x === 0)).toBe(true);
    expect(opt.stepCount).toBe(0);
  });
});

it('keeps DEFAULTS frozen, so no call can change the next one', () => {
  expect(Object.isFrozen(DEFAULTS)).toBe(true);
  expect(() => {
    (DEFAULTS as { lr: number }).lr = 5;
  }).toThrow(TypeError);
});

describe('coupledSecondMomentFromFull rejects', () => {
  it('a full moment of the wrong length', () => {
    expect(() => coupledSecondMomentFromFull(new Float32Array(5), { rows: 2, cols: 3 })).toThrow(
      'coupledSecondMomentFromFull: expected a Float32Array of 6 elements (rows * cols) for fullExpAvgSq but received Float32Array(5)');
  });
});
