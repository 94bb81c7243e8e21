// The 'cuda' backend: what backends() reports, the errors without a device, device-array
// validation (these run everywhere), and on a GPU the kernels against float64 over several
// steps, bfloat16 grads, bitwise determinism, skips, the optimizer and CUDA errors.
import { describe, expect, it } from 'vitest';

import {
  CoupledAdam,
  CudaArray,
  adamStep,
  backends,
  coupledAdamStep,
  cudaSynchronize,
} from '../src/index.js';
import { DEVICE_ARRAY } from '../src/device.js';
import { loadAddon } from '../src/backends/native.js';
import type { DeviceArrayLike } from '../src/index.js';
import { AdamRef, CoupledRef, type RefHyper, type RefShape } from './reference.js';
import { normals, relError, rng } from './util.js';

const info = backends().find((b) => b.name === 'cuda')!;
const addon = loadAddon().addon;

/** An object that passes for a device array at the API boundary (no device memory). */
function fakeDeviceArray(length: number, dtype: 'float32' | 'bfloat16' = 'float32') {
  return {
    [DEVICE_ARRAY]: true, device: 'cuda', dtype, length, byteLength: length * 4,
    disposed: false, toFloat32Array: () => new Float32Array(length), set: () => {},
    fill: () => {}, dispose: () => {},
  } as unknown as DeviceArrayLike;
}

describe('cuda: what every machine can check', () => {
  it('is reported, compiled exactly when the addon has the kernels', () => {
    expect(info).toBeDefined();
    expect(info.compiled).toBe(addon?.features.cuda === true);
    expect(info.reason.length).toBeGreaterThan(0);
  });

  it.runIf(info.compiled && !info.available)(
    'without a usable device, names the CUDA error, and allocation throws it', () => {
      expect(info.reason).toMatch(/^cudaError\w+: |^no CUDA device|compute capability/);
      let thrown: unknown;
      try {
        CudaArray.zeros(16);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(Error);
      const code = (thrown as { code?: string }).code ?? '';
      expect(code).toMatch(/^cudaError\w+$/);
      expect((thrown as Error).message.startsWith(code)).toBe(true);
    });

  it.runIf(info.compiled)('native entry points reject bad arguments with exceptions', () => {
    const cuda = (addon as unknown as { cuda: Record<string, (...a: unknown[]) => unknown> }).cuda;
    const h = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, avgScale: 1,
      step: 1 };
    expect(() => cuda.coupledStep({}, {}, {}, {}, 2, 2, 0, h, false, 0))
      .toThrow('Expected a live DeviceBuffer for param');
    expect(() => cuda.coupledStep({}, {}, {}, {}, 2, 2, 0, h, false, 7))
      .toThrow('Expected gradDtype 0 or 1');
    expect(() => cuda.adamStep(null, null, null, null, 0, h, false, 0))
      .toThrow('Expected an integer >= 1 for n');
    expect(() => cuda.adamMultiStep([[1, 2, 3, 4, 5]], h, 0))
      .toThrow('Expected live DeviceBuffers of n elements for tensor 0');
    expect(() => cuda.allFinite([[{}, 4, 0]])).toThrow();
    expect(() => cuda.alloc(-1)).toThrow('Expected a whole number of bytes >= 1');
    expect(() => cuda.upload({}, new Float32Array(1), 0)).toThrow('Expected a live DeviceBuffer');
  });

  it.runIf(!info.compiled)('in a build without the kernels, says why', () => {
    expect(() => CudaArray.zeros(16)).toThrow(/CudaArray.zeros: /);
  });

  it('routes device arrays to cuda, and rejects them on host backends', () => {
    const t = {
      param: fakeDeviceArray(6), grad: fakeDeviceArray(6), expAvg: fakeDeviceArray(6),
      expAvgSq: fakeDeviceArray(2),
    };
    const options = { rows: 3, cols: 2, step: 1 };
    expect(() => coupledAdamStep(t, { ...options, backend: 'native' })).toThrow(
      "coupledAdamStep: expected backend 'cuda' or 'auto' for device arrays but received " +
        '"native"');
    if (!info.available) {
      expect(() => coupledAdamStep(t, options)).toThrow(
        `coupledAdamStep: backend 'cuda' is unavailable: ${info.reason}`);
    }
  });

  it('checks device arrays with the wording of host tensors', () => {
    const C = 'coupledAdamStep: expected ';
    const options = { rows: 3, cols: 2, step: 1 };
    const good = () => ({
      param: fakeDeviceArray(6), grad: fakeDeviceArray(6), expAvg: fakeDeviceArray(6),
      expAvgSq: fakeDeviceArray(2),
    });
    expect(() => coupledAdamStep({ ...good(), grad: new Float32Array(6) } as never, options))
      .toThrow(`${C}a device array (CudaArray), as the other tensors of this call for ` +
        'tensors.grad but received Float32Array(6)');
    expect(() => coupledAdamStep({ ...good(), expAvg: fakeDeviceArray(5) }, options))
      .toThrow(`${C}a device array of 6 elements (rows * cols) for tensors.expAvg but ` +
        'received 5 elements');
    expect(() => coupledAdamStep({ ...good(), param: fakeDeviceArray(6, 'bfloat16') }, options))
      .toThrow(`${C}a device array of dtype 'float32' for tensors.param but received ` +
        "dtype 'bfloat16'");
    const same = fakeDeviceArray(6);
    expect(() => coupledAdamStep({ ...good(), param: same, expAvg: same }, options))
      .toThrow(`${C}memory separate from tensors.param for tensors.expAvg but received the ` +
        'same device array');
    const disposed = { ...fakeDeviceArray(6), disposed: true } as DeviceArrayLike;
    expect(() => adamStep({ ...good(), expAvgSq: fakeDeviceArray(6), param: disposed },
      { step: 1 })).toThrow("adamStep: expected a live device array for tensors.param but " +
      'received a disposed CudaArray');
  });
});

// ---- on a GPU ----

const TOL = 1e-5;
const STEPS = 5;
const SHAPES: Array<[number, number]> = [
  [1, 1], [3, 5], [17, 13], [7, 4099], [262144, 8], [1000, 3], [50304, 64], [5, 1027],
];

function hyper(random: () => number, weightDecay: boolean, avgScale: number): RefHyper {
  return {
    lr: 1e-3 * 10 ** random(), beta1: 0.8 + 0.19 * random(), beta2: 0.9 + 0.0999 * random(),
    eps: 1e-8, weightDecay: weightDecay ? 0.1 * random() : 0, avgScale,
  };
}

/** Uploads, steps `steps` times on the device, downloads; grads as the caller makes them. */
function deviceRun(shape: RefShape, param0: Float32Array, grads: Float32Array[],
  h: RefHyper, dtype: 'float32' | 'bfloat16' = 'float32') {
  const n = shape.rows * shape.cols;
  const param = CudaArray.from(param0);
  const expAvg = CudaArray.zeros(n);
  const expAvgSq = CudaArray.zeros(shape.cols);
  const grad = CudaArray.zeros(n, { dtype });
  try {
    grads.forEach((g, s) => {
      grad.set(g);
      const r = coupledAdamStep({ param, grad, expAvg, expAvgSq },
        { ...shape, ...h, step: s + 1, checkFinite: false });
      expect(r).toEqual({ applied: true, backend: 'cuda' });
    });
    return {
      param: param.toFloat32Array(), expAvg: expAvg.toFloat32Array(),
      expAvgSq: expAvgSq.toFloat32Array(),
    };
  } finally {
    for (const a of [param, expAvg, expAvgSq, grad]) a.dispose();
  }
}

describe.runIf(info.available)('cuda: on the device', () => {
  describe('coupledAdamStep on device arrays against float64', () => {
    for (const [rows, cols] of SHAPES) {
      for (const vocabAxis of [0, 1] as const) {
        it(`${rows} x ${cols}, vocabAxis ${vocabAxis}`, () => {
          const random = rng(rows * 31 + cols + vocabAxis);
          const shape = { rows, cols, vocabAxis };
          const h = hyper(random, vocabAxis === 0, vocabAxis === 0 ? 1 : 0.25);
          const param0 = normals(random, rows * cols);
          const grads = Array.from({ length: STEPS }, (_, s) =>
            normals(random, rows * cols, 10 ** -s));
          const ref = new CoupledRef(param0, shape);
          for (const g of grads) ref.update(g, h);
          const got = deviceRun(shape, param0, grads, h);
          expect(relError(got.param, ref.param)).toBeLessThan(TOL);
          expect(relError(got.expAvg, ref.expAvg)).toBeLessThan(TOL);
          expect(relError(got.expAvgSq, ref.expAvgSq)).toBeLessThan(TOL);
        });
      }
    }
  });

  it('accepts bfloat16 grads: the float64 update of the rounded values', () => {
    const shape = { rows: 4099, cols: 24, vocabAxis: 0 as const };
    const random = rng(5);
    const h = hyper(random, true, 1);
    const param0 = normals(random, shape.rows * shape.cols);
    const grads = Array.from({ length: 3 }, () => normals(random, shape.rows * shape.cols));
    const rounded = grads.map((g) => {
      const b = CudaArray.from(g, { dtype: 'bfloat16' });
      try {
        return b.toFloat32Array();
      } finally {
        b.dispose();
      }
    });
    expect(relError(rounded[0], grads[0])).toBeLessThan(2 ** -8);
    const ref = new CoupledRef(param0, shape);
    for (const g of rounded) ref.update(g, h);
    const got = deviceRun(shape, param0, grads, h, 'bfloat16');
    expect(relError(got.param, ref.param)).toBeLessThan(TOL);
  });

  it('is bitwise identical run to run (fixed reduction order)', () => {
    for (const vocabAxis of [0, 1] as const) {
      const shape = { rows: 50304, cols: 64, vocabAxis };
      const random = rng(9);
      const h = hyper(random, false, 1);
      const param0 = normals(random, shape.rows * shape.cols);
      const grads = [normals(random, shape.rows * shape.cols, 1e-3)];
      const a = deviceRun(shape, param0, grads, h);
      const b = deviceRun(shape, param0, grads, h);
      expect(Buffer.from(a.expAvgSq.buffer).equals(Buffer.from(b.expAvgSq.buffer))).toBe(true);
      expect(Buffer.from(a.param.buffer).equals(Buffer.from(b.param.buffer))).toBe(true);
    }
  });

  it('adamStep on device arrays against float64', () => {
    for (const n of [1, 3, 4, 1001, 1 << 20]) {
      const random = rng(n);
      const h = hyper(random, true, 1);
      const param0 = normals(random, n);
      const ref = new AdamRef(param0);
      const t = {
        param: CudaArray.from(param0), grad: CudaArray.zeros(n), expAvg: CudaArray.zeros(n),
        expAvgSq: CudaArray.zeros(n),
      };
      for (let s = 1; s <= STEPS; s++) {
        const g = normals(random, n, 0.1);
        t.grad.set(g);
        ref.update(g, h);
        expect(adamStep(t, { ...h, step: s }).applied).toBe(true);
      }
      expect(relError(t.param.toFloat32Array(), ref.param)).toBeLessThan(TOL);
      expect(relError(t.expAvgSq.toFloat32Array(), ref.expAvgSq)).toBeLessThan(TOL);
      Object.values(t).forEach((a) => a.dispose());
    }
  });

  it('skips a step with a non-finite gradient and modifies nothing', () => {
    const shape = { rows: 300, cols: 20, vocabAxis: 0 as const };
    const n = shape.rows * shape.cols;
    const random = rng(3);
    const param0 = normals(random, n);
    const g = normals(random, n);
    g[n - 7] = Number.NaN;
    const t = {
      param: CudaArray.from(param0), grad: CudaArray.from(g), expAvg: CudaArray.zeros(n),
      expAvgSq: CudaArray.zeros(shape.cols),
    };
    expect(coupledAdamStep(t, { ...shape, step: 1 }).applied).toBe(false);
    expect(adamStep({ ...t, expAvgSq: CudaArray.zeros(n) }, { step: 1 }).applied).toBe(false);
    expect(t.param.toFloat32Array()).toEqual(param0);
    expect(t.expAvgSq.toFloat32Array()).toEqual(new Float32Array(shape.cols));
    Object.values(t).forEach((a) => a.dispose());
  });

  it('runs host arrays through copies, with the same result as device arrays', () => {
    const shape = { rows: 333, cols: 17, vocabAxis: 1 as const };
    const n = shape.rows * shape.cols;
    const random = rng(4);
    const h = hyper(random, true, 1);
    const param0 = normals(random, n);
    const g = normals(random, n);
    const host = { param: param0.slice(), grad: g, expAvg: new Float32Array(n),
      expAvgSq: new Float32Array(shape.cols) };
    expect(coupledAdamStep(host, { ...shape, ...h, step: 1, backend: 'cuda' }).backend)
      .toBe('cuda');
    const dev = deviceRun(shape, param0, [g], h);
    expect(host.param).toEqual(dev.param);
  });

  it('CoupledAdam on device arrays matches CoupledAdam on the host', () => {
    const random = rng(8);
    const specs = [
      { name: 'wte', rows: 1000, cols: 32 }, { name: 'w1', rows: 1, cols: 4097 },
      { name: 'b1', rows: 1, cols: 3 },
    ];
    const init = specs.map((s) => normals(random, s.rows * s.cols));
    const gradsAt = (step: number) => specs.map((s, k) =>
      normals(rng(step * 10 + k), s.rows * s.cols, 0.1));
    const hostGrads = specs.map((s) => new Float32Array(s.rows * s.cols));
    const devParams = init.map((x) => CudaArray.from(x));
    const devGrads = specs.map((s) => CudaArray.zeros(s.rows * s.cols));
    const embedding = { rows: 1000, cols: 32 };
    const config = { lr: 1e-2, weightDecay: 0.1 };
    const onHost = new CoupledAdam(specs.map((s, k) => ({
      name: s.name, param: init[k].slice(), grad: hostGrads[k],
      ...(k === 0 ? { embedding } : {}) })), { ...config, backend: 'js' });
    const onDevice = new CoupledAdam(specs.map((s, k) => ({
      name: s.name, param: devParams[k], grad: devGrads[k],
      ...(k === 0 ? { embedding } : {}) })), config);
    expect(onDevice.backendName).toBe('cuda');
    for (let step = 1; step <= 3; step++) {
      gradsAt(step).forEach((g, k) => {
        hostGrads[k].set(g);
        devGrads[k].set(g);
      });
      expect(onHost.step().applied).toBe(true);
      expect(onDevice.step().applied).toBe(true);
    }
    cudaSynchronize();
    const a = onHost.stateDict(), b = onDevice.stateDict();
    for (const s of specs) {
      expect(relError(b.params[s.name].expAvg, a.params[s.name].expAvg)).toBeLessThan(TOL);
      expect(relError(b.params[s.name].expAvgSq, a.params[s.name].expAvgSq)).toBeLessThan(TOL);
    }
    onDevice.dispose();
    [...devParams, ...devGrads].forEach((x) => x.dispose());
  });

  it('turns CUDA failures and misuse into exceptions', () => {
    const x = CudaArray.zeros(4);
    x.dispose();
    x.dispose();
    expect(() => x.toFloat32Array())
      .toThrow('CudaArray.toFloat32Array: the CudaArray was disposed');
    let thrown: unknown;
    try {
      CudaArray.zeros(2 ** 50); // 4 PiB
    } catch (err) {
      thrown = err;
    }
    expect((thrown as { code?: string }).code).toBe('cudaErrorMemoryAllocation');
  });
});

describe.skipIf(info.available)('cuda: on the device', () => {
  it.skip(`skipped: ${info.reason}`, () => {});
});
