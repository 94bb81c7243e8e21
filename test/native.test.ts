// The native addon on its own: it checks its inputs (JS exceptions, never a crash), gives
// the same bits on one thread as on two, and sums 262144 rows without losing digits.
import { describe, expect, it } from 'vitest';

import { backends, coupledAdamStep, nativeThreads } from '../src/index.js';
import { loadAddon } from '../src/backends/native.js';
import { CoupledRef } from './reference.js';
import { normals, relError, rng } from './util.js';

const native = backends().find((b) => b.name === 'native')!;

describe.skipIf(!native.available)(`native addon${native.available ? '' : ` (skipped: ${native.reason})`}`, () => {
  const addon = loadAddon().addon!;
  const hyper = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, avgScale: 1, step: 1 };

  it('throws JS errors for bad arguments when called directly', () => {
    const f = () => new Float32Array(6); // separate buffers: the addon rejects shared memory
    expect(() => addon.coupledStep(new Float64Array(6) as never, f(), f(), f(), 2, 3, 0, hyper, true))
      .toThrow(new TypeError('Expected a Float32Array for param'));
    expect(() => addon.coupledStep(f(), f(), f(), new Float32Array(3), 2, 4, 0, hyper, true))
      .toThrow(new RangeError('Expected 8 elements in param but received 6'));
    expect(() => addon.coupledStep(f(), f(), f(), new Float32Array(3), 2, 3, 0, { ...hyper, step: 0 }, true))
      .toThrow(new RangeError('invalid argument: step must be >= 1, got 0'));
    expect(() => addon.adamStep(f(), f(), f(), f(), { ...hyper, beta1: 1 }, true))
      .toThrow(new RangeError('invalid argument: beta1 must be in [0, 1), got 1'));
    expect(() => addon.coupledStep(f(), f(), f(), new Float32Array(3), 2, 3, 7, hyper, true))
      .toThrow(new RangeError('invalid argument: vocab_axis must be 0 or 1'));
    expect(() => addon.adamStep(f(), f(), f(), f(), null as never, true))
      .toThrow(new TypeError('Expected an object for hyper'));
  });

  it('passes on an exception thrown by a getter or Proxy trap instead of crashing', () => {
    // A second throw over the pending one used to be a fatal error in N-API (the process died).
    const f = () => new Float32Array(6);
    const throwing = Object.defineProperty({ ...hyper }, 'lr', {
      get() { throw new Error('from a getter'); },
    });
    expect(() => addon.coupledStep(f(), f(), f(), new Float32Array(3), 2, 3, 0, throwing, true))
      .toThrow(new Error('from a getter'));
    const trap = new Proxy(hyper, { get() { throw new Error('from a trap'); } });
    expect(() => addon.adamStep(f(), f(), f(), f(), trap, true)).toThrow(new Error('from a trap'));
    const cuda = (addon as unknown as { cuda?: Record<string, (...a: unknown[]) => unknown> }).cuda;
    if (cuda) {
      const evil = new Proxy({}, { getPrototypeOf() { throw new Error('from a trap'); } });
      expect(() => cuda.fill0(evil)).toThrow(new TypeError('Expected a live DeviceBuffer'));
      expect(() => cuda.adamMultiStep([[evil, evil, evil, evil, 6]], hyper, 0))
        .toThrow(new TypeError('Expected live DeviceBuffers of n elements for tensor 0'));
    }
  });

  it('rejects a step that is not an integer when called directly', () => {
    const f = () => new Float32Array(6);
    for (const step of [1.5, NaN, Infinity, 1e300]) {
      expect(() => addon.adamStep(f(), f(), f(), f(), { ...hyper, step }, true))
        .toThrow(new RangeError('Expected an integer >= 1 for hyper.step'));
    }
  });

  it('rejects tensors that share memory through two SharedArrayBuffer objects', () => {
    // structuredClone of a SharedArrayBuffer is another object over the same memory: the
    // TypeScript check cannot see it, and the kernels take their pointers __restrict
    const shared = new SharedArrayBuffer(6 * 4);
    const param = new Float32Array(shared), grad = new Float32Array(structuredClone(shared));
    const t = { param, grad, expAvg: new Float32Array(6), expAvgSq: new Float32Array(3) };
    param.fill(1);
    expect(() => coupledAdamStep(t, { rows: 2, cols: 3, step: 1, backend: 'native' }))
      .toThrow(new RangeError('Expected memory separate from param for grad'));
    expect(() => addon.adamStep(param, new Float32Array(6), grad, new Float32Array(6), hyper, true))
      .toThrow(new RangeError('Expected memory separate from param for expAvg'));
    expect(Array.from(param)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('gives bitwise the same step on one thread as on two', () => {
    const threads = nativeThreads();
    const random = rng(3);
    const rows = 300_001, cols = 5;
    const grad = normals(random, rows * cols);
    const init = normals(random, rows * cols, 0.02);
    const results = [1, Math.max(2, threads)].map((n) => {
      nativeThreads(n);
      const t = { param: init.slice(), grad, expAvg: new Float32Array(rows * cols), expAvgSq: new Float32Array(cols) };
      for (const vocabAxis of [0, 1] as const) {
        coupledAdamStep(t, { rows, cols, step: 1, vocabAxis, backend: 'native' });
      }
      return t;
    });
    nativeThreads(threads);
    expect(results[1].expAvgSq).toEqual(results[0].expAvgSq);
    expect(results[1].param).toEqual(results[0].param);
  });

  it('sums grad^2 over 262144 rows to float32 precision of the result', () => {
    // Squares spread over eight decades: a float32 running sum would lose about four digits.
    const rows = 262144, cols = 4;
    const random = rng(5);
    const grad = normals(random, rows * cols);
    for (let k = 0; k < grad.length; k++) grad[k] *= 10 ** (-4 * random());
    const t = { param: new Float32Array(rows * cols), grad, expAvg: new Float32Array(rows * cols), expAvgSq: new Float32Array(cols) };
    coupledAdamStep(t, { rows, cols, step: 1, beta2: 0.5, backend: 'native' });
    const ref = new CoupledRef(new Float32Array(rows * cols), { rows, cols, vocabAxis: 0 });
    ref.update(grad, { ...hyper, beta2: 0.5 });
    expect(relError(t.expAvgSq, ref.expAvgSq)).toBeLessThan(2e-7);
  });
});
