// The gpujs backend in Node, in every gpu.js mode this machine has (headlessgl needs the gl
// package and a display: `npm test` runs under xvfb-run when it is installed). Modes that
// cannot run are skipped with the reason in the test name.
import { describe, expect, test } from 'vitest';
import {
  CoupledAdam,
  adamStepAsync,
  backends,
  configureGpuJs,
  coupledAdamStep,
  coupledAdamStepAsync,
} from '../src/index.js';
import {
  createGpuJsBackend,
  type GpuJsBackend,
  type GpuJsMode,
} from '../src/backends/gpujs/backend.js';
import { loadGpuJs } from '../src/backends/gpujs/node.js';
import { NODE_MODES, unsupported } from '../src/backends/gpujs/provider.js';
import { planCoupled, planFlat } from '../src/backends/gpujs/plan.js';
import type { CoupledShape, Hyper } from '../src/types.js';
import {
  GOLDEN,
  TOLERANCE,
  lcg,
  optimizerPair,
  referenceAdam,
  referenceCoupled,
  relativeError,
  runGolden,
  type GoldenCase,
} from './browser/golden.js';

const gpujs = loadGpuJs();
const available = NODE_MODES.filter((m) => unsupported(gpujs, m) === null);
const best = available[0];

function make(mode: GpuJsMode, maxPiece?: number): GpuJsBackend {
  return createGpuJsBackend(new gpujs.GPU({ mode }), { maxPiece });
}

function stepper(b: GpuJsBackend) {
  return {
    coupled: (t: Parameters<GpuJsBackend['coupledStep']>[0], s: CoupledShape, h: Hyper) =>
      b.coupledStep(t, s, h, true),
    adam: (t: Parameters<GpuJsBackend['adamStep']>[0], h: Hyper) => b.adamStep(t, h, true),
  };
}

async function expectGolden(b: GpuJsBackend, c: GoldenCase) {
  const r = await runGolden(c, stepper(b));
  expect(r.applied).toBe(true);
  expect(r.errors.param).toBeLessThanOrEqual(TOLERANCE);
  expect(r.errors.expAvg).toBeLessThanOrEqual(TOLERANCE);
  expect(r.errors.expAvgSq).toBeLessThanOrEqual(TOLERANCE);
}

// small pieces force every splitting path: several lines a piece, lines split along their length
const SPLIT_CASES: GoldenCase[] = [
  ...GOLDEN.filter((c) => (c.shape ? c.shape.rows * c.shape.cols : c.length!) < 10_000),
  {
    name: 'coupled 5x300 vocabAxis 0, rows split', kind: 'coupled', steps: 5,
    shape: { rows: 5, cols: 300, vocabAxis: 0 }, hyper: GOLDEN[0].hyper,
    grad: (g, _s, r) => g.forEach((_, i) => (g[i] = r() - 0.5)),
  },
  {
    name: 'coupled 1000x3 vocabAxis 1, vocabulary lines split', kind: 'coupled', steps: 5,
    shape: { rows: 1000, cols: 3, vocabAxis: 1 }, hyper: GOLDEN[1].hyper,
    grad: (g, _s, r) => g.forEach((_, i) => (g[i] = r() - 0.5)),
  },
];

for (const mode of NODE_MODES) {
  const why = unsupported(gpujs, mode);
  if (why) {
    test.skip(`gpujs mode ${mode}: skipped, ${why}`, () => {});
    continue;
  }
  describe(`gpujs mode ${mode}`, () => {
    const b = make(mode);
    const split = make(mode, 64);

    for (const c of GOLDEN) test(`golden: ${c.name}`, () => expectGolden(b, c));
    for (const c of SPLIT_CASES) test(`pieces of 64: ${c.name}`, () => expectGolden(split, c));

    test('every kernel ran in the mode asked for', () => {
      expect(b.kernelModes().length).toBeGreaterThan(0);
      expect(new Set([...b.kernelModes(), ...split.kernelModes()])).toEqual(new Set([mode]));
    });

    // cpu and webasm have no device: their moments are always the host arrays
    if (mode === 'headlessgl') test('resident moments stay on the device until read', () => {
      const shape: CoupledShape = { rows: 40, cols: 5, vocabAxis: 0 };
      const t = {
        param: new Float32Array(200).fill(1), grad: new Float32Array(200).fill(0.5),
        expAvg: new Float32Array(200), expAvgSq: new Float32Array(5),
      };
      const h: Hyper = { ...GOLDEN[0].hyper, step: 1 };
      expect(split.coupledStep(t, shape, h, true, true)).toBe(true);
      expect(t.param[199]).not.toBe(1); // param comes back every step
      expect(t.expAvg.every((x) => x === 0)).toBe(true); // the moment does not
      split.readState([t.expAvg]);
      expect(t.expAvg.every((x) => Math.abs(x - 0.05) < 1e-7)).toBe(true);
      split.dropState([t.expAvg]);
    });

    test('a non-finite gradient skips the step and modifies nothing', () => {
      const shape: CoupledShape = { rows: 6, cols: 5, vocabAxis: 0 };
      const t = {
        param: new Float32Array(30).fill(1), grad: new Float32Array(30).fill(0.5),
        expAvg: new Float32Array(30).fill(0.25), expAvgSq: new Float32Array(5).fill(0.125),
      };
      t.grad[17] = NaN;
      const before = structuredClone(t);
      const h: Hyper = { ...GOLDEN[0].hyper, step: 1 };
      expect(b.coupledStep(t, shape, h, true)).toBe(false);
      expect(b.adamStep({ ...t, expAvgSq: new Float32Array(30) }, h, true)).toBe(false);
      expect(t).toEqual(before);
    });
  });
}

// Sizes beyond exact float addressing (2^24 elements) and beyond one texture, in the fastest
// mode here. Two steps each: enough to see state carried between steps.
describe.skipIf(!best)(`gpujs beyond 2^24 elements (mode ${best})`, () => {
  test('coupled 4097 x 4096, vocabAxis 0', () => {
    const b = make(best);
    const shape: CoupledShape = { rows: 4097, cols: 4096, vocabAxis: 0 };
    const n = shape.rows * shape.cols;
    expect(n).toBeGreaterThan(2 ** 24);
    expect(planCoupled(shape, 2 ** 22).pieces.length).toBeGreaterThan(4);
    const rand = lcg(7);
    const t = {
      param: Float32Array.from({ length: n }, () => rand() - 0.5),
      grad: new Float32Array(n), expAvg: new Float32Array(n),
      expAvgSq: new Float32Array(shape.cols),
    };
    const ref = {
      param: Float64Array.from(t.param), expAvg: new Float64Array(n),
      expAvgSq: new Float64Array(shape.cols),
    };
    for (let step = 1; step <= 2; step++) {
      for (let i = 0; i < n; i++) t.grad[i] = rand() - 0.5;
      const h: Hyper = { ...GOLDEN[0].hyper, step };
      expect(b.coupledStep(t, shape, h, true)).toBe(true);
      referenceCoupled(ref, t.grad, shape, h);
      expect(relativeError(t.param, ref.param)).toBeLessThanOrEqual(TOLERANCE);
      expect(relativeError(t.expAvg, ref.expAvg)).toBeLessThanOrEqual(TOLERANCE);
      expect(relativeError(t.expAvgSq, ref.expAvgSq)).toBeLessThanOrEqual(TOLERANCE);
      // the last elements are the ones a float-addressed kernel would get wrong
      expect(Math.abs(t.param[n - 1] - ref.param[n - 1])).toBeLessThan(1e-6);
    }
    b.destroy();
  });

  test('adam 2^24 + 1001 elements', () => {
    const b = make(best);
    const n = 2 ** 24 + 1001;
    expect(planFlat(n, 2 ** 22).length).toBe(5);
    const rand = lcg(11);
    const t = {
      param: Float32Array.from({ length: n }, () => rand() - 0.5),
      grad: new Float32Array(n), expAvg: new Float32Array(n), expAvgSq: new Float32Array(n),
    };
    const ref = {
      param: Float64Array.from(t.param), expAvg: new Float64Array(n),
      expAvgSq: new Float64Array(n),
    };
    for (let step = 1; step <= 2; step++) {
      for (let i = 0; i < n; i++) t.grad[i] = rand() - 0.5;
      const h: Hyper = { ...GOLDEN[0].hyper, weightDecay: 0.1, step };
      expect(b.adamStep(t, h, true)).toBe(true);
      referenceAdam(ref, t.grad, h);
      expect(relativeError(t.param, ref.param)).toBeLessThanOrEqual(TOLERANCE);
      expect(relativeError(t.expAvg, ref.expAvg)).toBeLessThanOrEqual(TOLERANCE);
      expect(relativeError(t.expAvgSq, ref.expAvgSq)).toBeLessThanOrEqual(TOLERANCE);
    }
    b.destroy();
  });
});

describe('gpujs through the public API', () => {
  const info = backends().find((x) => x.name === 'gpujs')!;

  test(`backends() reports the gpu.js mode obtained (${info.mode ?? info.reason})`, () => {
    expect(info.available).toBe(available.length > 0);
    if (info.available) {
      expect(info.mode).toBe(best);
      expect(info.reason).toContain(`gpu.js mode ${best}`);
    }
  });

  const ready = info.available;

  test.skipIf(!ready)('CoupledAdam on gpujs tracks js step by step, state round trip', async () => {
    // pieces of 64 elements: the embedding's moments live on the device as 7 pieces
    expect((await configureGpuJs({ maxPiece: 64 })).mode).toBe(best);
    const { js, gpu, fill } = optimizerPair(CoupledAdam, 30, 3);
    const close = (a: Float32Array, b: Float32Array) =>
      expect(relativeError(a, Float64Array.from(b))).toBeLessThanOrEqual(TOLERANCE);
    for (let s = 0; s < 5; s++) {
      fill();
      expect(gpu.opt.step().backend).toBe('gpujs');
      js.opt.step();
      close(gpu.emb.param, js.emb.param);
      close(gpu.w.param, js.w.param);
    }
    // stateDict reads moments back from the device; loadStateDict replaces them there
    const saved = gpu.opt.stateDict();
    const want = js.opt.stateDict();
    for (const name of ['wte', 'w']) {
      close(saved.params[name].expAvg, want.params[name].expAvg);
      close(saved.params[name].expAvgSq, want.params[name].expAvgSq);
    }
    const reset = js.opt.stateDict();
    reset.params.wte.expAvg.fill(0.5);
    gpu.opt.loadStateDict(reset);
    js.opt.loadStateDict(reset);
    fill();
    gpu.opt.step();
    js.opt.step();
    close(gpu.emb.param, js.emb.param);
    close(gpu.opt.stateDict().params.wte.expAvg, js.opt.stateDict().params.wte.expAvg);
    await configureGpuJs();
  });

  test.skipIf(!ready)('coupledAdamStepAsync and adamStepAsync match the sync step', async () => {
    const t = () => ({
      param: new Float32Array(12).fill(1), grad: new Float32Array(12).map((_, i) => i - 6),
      expAvg: new Float32Array(12), expAvgSq: new Float32Array(4),
    });
    const a = t();
    const s = t();
    const o = { rows: 3, cols: 4, step: 1, backend: 'gpujs' as const };
    expect(await coupledAdamStepAsync(a, o)).toEqual({ applied: true, backend: 'gpujs' });
    coupledAdamStep(s, o);
    expect(a).toEqual(s);
    const adam = { ...t(), expAvgSq: new Float32Array(12) };
    expect((await adamStepAsync(adam, { step: 1, backend: 'gpujs' })).applied).toBe(true);
    await expect(coupledAdamStepAsync(a, { ...o, rows: 5 })).rejects.toThrow(
      /coupledAdamStepAsync: expected .* for tensors.param/);
  });
});
