// The golden suite: every backend against the float64 reference over sequential steps, on
// awkward shapes and random hyperparameters, plus the properties of shared/COUPLED_ADAM.md.
// A backend that cannot run here is listed as skipped with its reason.
import { describe, expect, it } from 'vitest';

import { adamStep, backends, coupledAdamStep } from '../src/index.js';
import type { BackendName } from '../src/index.js';
import { AdamRef, CoupledRef, PaperCoupledRef, type RefHyper, type RefShape } from './reference.js';
import { minus, normals, relError, rng } from './util.js';

const TOL = 1e-5;
const STEPS = 5;

interface Case {
  rows: number;
  cols: number;
  vocabAxis: 0 | 1;
  weightDecay: boolean;
  avgScale: number;
}

const SHAPES: Array<[number, number]> = [
  [1, 1], [3, 5], [17, 13], [7, 4099], [262144, 8], [1, 33], [257, 1], [1000, 3],
];
const CASES: Case[] = SHAPES.flatMap(([rows, cols], s) => [
  { rows, cols, vocabAxis: 0 as const, weightDecay: s % 2 === 0, avgScale: 1 },
  { rows, cols, vocabAxis: 1 as const, weightDecay: s % 2 === 1, avgScale: s % 3 === 0 ? 0.125 : 2 },
]);

function randomHyper(random: () => number, c: { weightDecay: boolean; avgScale: number }): RefHyper {
  return {
    lr: 1e-3 * 10 ** random(),
    beta1: 0.8 + 0.19 * random(),
    beta2: 0.9 + 0.0999 * random(),
    eps: [1e-8, 1e-6, 1e-10][Math.floor(random() * 3)],
    weightDecay: c.weightDecay ? 0.2 * random() : 0,
    avgScale: c.avgScale,
  };
}

/**
 * Gradients of one step: normal noise of a per-row scale spread over four decades (rare and
 * frequent tokens), with every fifth token absent (all-zero rows) throughout and every
 * third absent on odd steps: rows with zero gradients still move and still count.
 */
function stepGrad(random: () => number, shape: RefShape, step: number): Float32Array {
  const { rows, cols } = shape;
  const g = normals(random, rows * cols);
  for (let i = 0; i < rows; i++) {
    const absent = (rows > 1 && i % 5 === 4) || (step % 2 === 1 && i % 3 === 2);
    const scale = absent ? 0 : 10 ** (-4 * ((i * 7919) % rows) / rows);
    for (let j = 0; j < cols; j++) {
      const k = shape.vocabAxis === 0 ? i * cols + j : j * rows + i;
      g[k] *= scale;
    }
  }
  return g;
}

/** The AdamW subset of a RefHyper (adamStep takes no avgScale). */
function adamHyper(h: RefHyper) {
  const { avgScale: _unused, ...rest } = h;
  return rest;
}

function label(c: Case) {
  return `${c.rows}x${c.cols} vocabAxis ${c.vocabAxis}, weightDecay ${c.weightDecay ? 'on' : 'off'}` +
    `, avgScale ${c.avgScale}`;
}

function suite(name: BackendName) {
  const backend = name;

  describe('coupledAdamStep against float64', () => {
    CASES.forEach((c, ci) => {
      it(label(c), () => {
        const random = rng(1000 + ci);
        const h = randomHyper(random, c);
        const shape: RefShape = { rows: c.rows, cols: c.cols, vocabAxis: c.vocabAxis };
        const n = c.rows * c.cols;
        const param = normals(random, n, 0.02);
        const expAvg = new Float32Array(n);
        const expAvgSq = new Float32Array(c.cols);
        const ref = new CoupledRef(param, shape);
        for (let step = 1; step <= STEPS; step++) {
          const grad = stepGrad(random, shape, step);
          const before = param.slice();
          const refBefore = ref.param.slice();
          const r = coupledAdamStep({ param, grad, expAvg, expAvgSq }, { ...shape, ...h, step, backend });
          expect(r).toEqual({ applied: true, backend });
          ref.update(grad, h);
          expect(relError(minus(param, before), minus(ref.param, refBefore))).toBeLessThan(TOL);
          expect(relError(expAvg, ref.expAvg)).toBeLessThan(TOL);
          expect(relError(expAvgSq, ref.expAvgSq)).toBeLessThan(TOL);
        }
      });
    });
  });

  describe('adamStep against float64', () => {
    CASES.filter((c) => c.vocabAxis === 0).forEach((c, ci) => {
      it(`${c.rows * c.cols} elements, weightDecay ${c.weightDecay ? 'on' : 'off'}`, () => {
        const random = rng(2000 + ci);
        const h = randomHyper(random, c);
        const n = c.rows * c.cols;
        const param = normals(random, n, 0.02);
        const expAvg = new Float32Array(n);
        const expAvgSq = new Float32Array(n);
        const ref = new AdamRef(param);
        for (let step = 1; step <= STEPS; step++) {
          const grad = stepGrad(random, { rows: c.rows, cols: c.cols, vocabAxis: 0 }, step);
          const before = param.slice();
          const refBefore = ref.param.slice();
          adamStep({ param, grad, expAvg, expAvgSq }, { ...adamHyper(h), step, backend });
          ref.update(grad, h);
          expect(relError(minus(param, before), minus(ref.param, refBefore))).toBeLessThan(TOL);
          expect(relError(expAvg, ref.expAvg)).toBeLessThan(TOL);
          expect(relError(expAvgSq, ref.expAvgSq)).toBeLessThan(TOL);
        }
      });
    });
  });

  it('keeps the column means of param fixed (coupled) where adamStep shifts them', () => {
    // Gradients whose columns sum to zero, as the tied output layer's do: token 0 is the
    // frequent one with a large gradient, the others are rare with small ones.
    const rows = 512, cols = 16, steps = 20, lr = 1e-2;
    const random = rng(7);
    const init = normals(random, rows * cols, 0.02);
    const coupled = { param: init.slice(), expAvg: new Float32Array(rows * cols), expAvgSq: new Float32Array(cols) };
    const adam = { param: init.slice(), expAvg: new Float32Array(rows * cols), expAvgSq: new Float32Array(rows * cols) };
    const mean = (p: Float32Array) => {
      const mu = new Float64Array(cols);
      for (let k = 0; k < p.length; k++) mu[k % cols] += p[k] / rows;
      return mu;
    };
    const mu0 = mean(init);
    for (let step = 1; step <= steps; step++) {
      const g = new Float64Array(rows * cols);
      for (let i = 1; i < rows; i++) {
        for (let j = 0; j < cols; j++) g[i * cols + j] = 1e-3 * (1 + random());
      }
      for (let j = 0; j < cols; j++) {
        let s = 0;
        for (let i = 1; i < rows; i++) s += g[i * cols + j];
        g[j] = -s;
      }
      const grad = Float32Array.from(g);
      coupledAdamStep({ ...coupled, grad }, { rows, cols, step, lr, backend });
      adamStep({ ...adam, grad }, { step, lr, backend });
    }
    const coupledShift = Math.max(...minus(mean(coupled.param), mu0).map(Math.abs));
    const adamShift = Math.max(...minus(mean(adam.param), mu0).map(Math.abs));
    expect(coupledShift).toBeLessThan(1e-4 * lr * steps);
    expect(adamShift).toBeGreaterThan(0.5 * lr * steps);
  });

  it('equals adamStep for a single row', () => {
    const random = rng(11);
    const cols = 97;
    const h = randomHyper(random, { weightDecay: true, avgScale: 1 });
    const init = normals(random, cols, 0.02);
    const c = { param: init.slice(), expAvg: new Float32Array(cols), expAvgSq: new Float32Array(cols) };
    const a = { param: init.slice(), expAvg: new Float32Array(cols), expAvgSq: new Float32Array(cols) };
    for (let step = 1; step <= 10; step++) {
      const grad = normals(random, cols);
      coupledAdamStep({ ...c, grad }, { rows: 1, cols, ...h, step, backend });
      adamStep({ ...a, grad }, { ...adamHyper(h), step, backend });
      expect(relError(minus(c.param, init), minus(a.param, init))).toBeLessThan(TOL);
      expect(relError(c.expAvgSq, a.expAvgSq)).toBeLessThan(TOL);
    }
  });

  it("matches the paper's formulation (full v averaged each step) over 50 steps", () => {
    const random = rng(13);
    const shape: RefShape = { rows: 40, cols: 6, vocabAxis: 0 };
    const h = { ...randomHyper(random, { weightDecay: true, avgScale: 0.25 }) };
    const n = shape.rows * shape.cols;
    const init = normals(random, n, 0.02);
    const param = init.slice();
    const t = { param, expAvg: new Float32Array(n), expAvgSq: new Float32Array(shape.cols) };
    const paper = new PaperCoupledRef(init, shape);
    for (let step = 1; step <= 50; step++) {
      const grad = stepGrad(random, shape, step);
      coupledAdamStep({ ...t, grad }, { ...shape, ...h, step, backend });
      paper.update(grad, h);
    }
    expect(relError(minus(param, init), minus(paper.param, init))).toBeLessThan(TOL);
    expect(relError(t.expAvg, paper.expAvg)).toBeLessThan(TOL);
  });

  it('gives a column that never saw a gradient no update at eps = 0 (no 0/0)', () => {
    const rows = 6, cols = 4;
    const param = Float32Array.from({ length: rows * cols }, (_, k) => k / 10);
    const before = param.slice();
    const grad = Float32Array.from({ length: rows * cols }, (_, k) => (k % cols === 2 ? 0 : 1 + k));
    const t = { param, grad, expAvg: new Float32Array(rows * cols), expAvgSq: new Float32Array(cols) };
    coupledAdamStep(t, { rows, cols, step: 1, eps: 0, backend });
    expect(param.every(Number.isFinite)).toBe(true);
    for (let i = 0; i < rows; i++) expect(param[i * cols + 2]).toBe(before[i * cols + 2]);
    const a = { param: before.slice(), grad, expAvg: new Float32Array(rows * cols), expAvgSq: new Float32Array(rows * cols) };
    adamStep(a, { step: 1, eps: 0, backend });
    expect(a.param.every(Number.isFinite)).toBe(true);
  });

  it('skips a step with a non-finite gradient and modifies nothing', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const random = rng(17);
      const rows = 9, cols = 5, n = rows * cols;
      const grad = normals(random, n);
      grad[23] = bad;
      const t = { param: normals(random, n), grad, expAvg: normals(random, n), expAvgSq: new Float32Array(cols).fill(0.5) };
      const copy = { param: t.param.slice(), expAvg: t.expAvg.slice(), expAvgSq: t.expAvgSq.slice() };
      expect(coupledAdamStep(t, { rows, cols, step: 3, backend })).toEqual({ applied: false, backend });
      expect(t).toEqual({ ...copy, grad });
      const a = { param: t.param, grad, expAvg: t.expAvg, expAvgSq: new Float32Array(n).fill(0.5) };
      const aCopy = a.expAvgSq.slice();
      expect(adamStep(a, { step: 3, backend })).toEqual({ applied: false, backend });
      expect(a.param).toEqual(copy.param);
      expect(a.expAvg).toEqual(copy.expAvg);
      expect(a.expAvgSq).toEqual(aCopy);
    }
  });

  it('propagates a non-finite gradient when checkFinite is false', () => {
    const rows = 4, cols = 3, n = rows * cols;
    const grad = new Float32Array(n).fill(0.1);
    grad[4] = NaN; // token 1, hidden unit 1
    const t = { param: new Float32Array(n), grad, expAvg: new Float32Array(n), expAvgSq: new Float32Array(cols) };
    expect(coupledAdamStep(t, { rows, cols, step: 1, backend, checkFinite: false }).applied).toBe(true);
    for (let k = 0; k < n; k++) expect(Number.isNaN(t.param[k])).toBe(k % cols === 1);
  });
}

describe.each(backends())('backend $name', (info) => {
  if (!info.available) {
    it.skip(`skipped: ${info.reason}`, () => {});
    return;
  }
  suite(info.name);
});
