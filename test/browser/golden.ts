// Golden cases for the gpujs backend, shared by the Node test and the browser page: each runs
// several sequential steps against a float64 reference and reports the relative error
// max|a - b| / max|b| of every tensor after every step. No Node APIs here.
import type { CoupledAdam } from '../../src/optimizer.js';
import type { AdamTensors, CoupledShape, CoupledTensors, Hyper } from '../../src/types.js';

export const TOLERANCE = 1e-5;

export interface GoldenCase {
  name: string;
  kind: 'coupled' | 'adam';
  /** Coupled only. */
  shape?: CoupledShape;
  /** Adam only: elements. */
  length?: number;
  steps: number;
  hyper: Omit<Hyper, 'step'>;
  /** Gradient of step s (1-based), written into g. */
  grad(g: Float32Array, s: number, rand: () => number): void;
}

/** Deterministic uniform [0, 1) numbers (a 32-bit LCG), so every platform sees one case. */
export function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

const H = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, avgScale: 1 };
const normal = (g: Float32Array, rand: () => number, scale = 1) => {
  for (let i = 0; i < g.length; i++) g[i] = scale * (rand() * 2 - 1);
};

export const GOLDEN: GoldenCase[] = [
  {
    name: 'coupled 37x13 vocabAxis 0, weight decay', kind: 'coupled', steps: 5,
    shape: { rows: 37, cols: 13, vocabAxis: 0 }, hyper: { ...H, weightDecay: 0.1 },
    grad: (g, _s, r) => normal(g, r),
  },
  {
    name: 'coupled 41x7 vocabAxis 1, avgScale 0.25', kind: 'coupled', steps: 5,
    shape: { rows: 41, cols: 7, vocabAxis: 1 }, hyper: { ...H, avgScale: 0.25, beta2: 0.95 },
    grad: (g, _s, r) => normal(g, r, 3),
  },
  {
    // tokens absent from the batch: rows with exactly zero gradient still move
    name: 'coupled 64x9, half the rows without gradient', kind: 'coupled', steps: 6,
    shape: { rows: 64, cols: 9, vocabAxis: 0 }, hyper: H,
    grad: (g, s, r) => {
      normal(g, r);
      for (let i = 0; i < 64; i++) if ((i + s) % 2 === 0) g.fill(0, i * 9, i * 9 + 9);
    },
  },
  {
    name: 'coupled 1x10 (AdamW)', kind: 'coupled', steps: 5,
    shape: { rows: 1, cols: 10, vocabAxis: 0 }, hyper: { ...H, weightDecay: 0.01 },
    grad: (g, _s, r) => normal(g, r),
  },
  {
    name: 'coupled eps 0 with an all-zero column', kind: 'coupled', steps: 5,
    shape: { rows: 5, cols: 4, vocabAxis: 0 }, hyper: { ...H, eps: 0 },
    grad: (g, _s, r) => {
      normal(g, r);
      for (let i = 0; i < 5; i++) g[i * 4 + 2] = 0;
    },
  },
  {
    // one float32 accumulator over 262144 rows loses about four digits; the tree must not
    name: 'coupled 262144x4 vocabAxis 0, gradients over six decades', kind: 'coupled',
    steps: 5, shape: { rows: 262144, cols: 4, vocabAxis: 0 }, hyper: H,
    grad: (g, _s, r) => {
      for (let i = 0; i < g.length; i++) g[i] = (r() * 2 - 1) * 10 ** (-6 * r());
    },
  },
  {
    name: 'coupled 3x262144 vocabAxis 1 (rows 262144)', kind: 'coupled', steps: 5,
    shape: { rows: 262144, cols: 3, vocabAxis: 1 }, hyper: { ...H, weightDecay: 0.1 },
    grad: (g, _s, r) => normal(g, r),
  },
  {
    name: 'adam 1000 elements, weight decay', kind: 'adam', steps: 5, length: 1000,
    hyper: { ...H, weightDecay: 0.01 }, grad: (g, _s, r) => normal(g, r),
  },
  {
    name: 'adam 4097 elements, eps 0 and zero gradients', kind: 'adam', steps: 5, length: 4097,
    hyper: { ...H, eps: 0, beta2: 0.95 },
    grad: (g, _s, r) => {
      normal(g, r);
      g.fill(0, 100, 200);
    },
  },
];

// --- float64 reference (the update of shared/COUPLED_ADAM.md, in double throughout) ---

export interface Reference {
  param: Float64Array;
  expAvg: Float64Array;
  expAvgSq: Float64Array;
}

export function referenceCoupled(r: Reference, grad: Float32Array, s: CoupledShape, h: Hyper) {
  const { rows, cols, vocabAxis } = s;
  const col = (k: number) => (vocabAxis === 0 ? k % cols : Math.floor(k / rows));
  const sumSq = new Float64Array(cols);
  for (let k = 0; k < grad.length; k++) sumSq[col(k)] += grad[k] * grad[k];
  const bc1 = 1 - h.beta1 ** h.step;
  const bc2 = 1 - h.beta2 ** h.step;
  const scale = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    r.expAvgSq[j] = h.beta2 * r.expAvgSq[j] + (1 - h.beta2) * (sumSq[j] / rows);
    const denom = Math.sqrt((h.avgScale * r.expAvgSq[j]) / bc2) + h.eps;
    scale[j] = denom === 0 ? 0 : h.lr / bc1 / denom;
  }
  for (let k = 0; k < grad.length; k++) {
    r.expAvg[k] = h.beta1 * r.expAvg[k] + (1 - h.beta1) * grad[k];
    r.param[k] = r.param[k] * (1 - h.lr * h.weightDecay) - scale[col(k)] * r.expAvg[k];
  }
}

export function referenceAdam(r: Reference, grad: Float32Array, h: Hyper) {
  const bc1 = 1 - h.beta1 ** h.step;
  const bc2 = 1 - h.beta2 ** h.step;
  for (let k = 0; k < grad.length; k++) {
    const g = grad[k];
    r.expAvg[k] = h.beta1 * r.expAvg[k] + (1 - h.beta1) * g;
    r.expAvgSq[k] = h.beta2 * r.expAvgSq[k] + (1 - h.beta2) * g * g;
    const denom = Math.sqrt(r.expAvgSq[k] / bc2) + h.eps;
    r.param[k] = r.param[k] * (1 - h.lr * h.weightDecay) -
      (denom === 0 ? 0 : (h.lr / bc1) * r.expAvg[k] / denom);
  }
}

/** max|a - b| / max|b|; 0 when both are all zero. */
export function relativeError(a: Float32Array, b: Float64Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  if (Number.isNaN(diff)) return NaN;
  return scale === 0 ? diff : diff / scale;
}

/** What a golden run needs from a backend: one step, sync or async. */
export interface Stepper {
  coupled(t: CoupledTensors, shape: CoupledShape, h: Hyper): boolean | Promise<boolean>;
  adam(t: AdamTensors, h: Hyper): boolean | Promise<boolean>;
}

export interface GoldenResult {
  name: string;
  /** Largest relative error over all steps, per tensor. */
  errors: { param: number; expAvg: number; expAvgSq: number };
  applied: boolean;
}

/** Runs one case for its steps; errors are the worst over all steps. */
export async function runGolden(c: GoldenCase, stepper: Stepper): Promise<GoldenResult> {
  const rand = lcg(0x9e3779b9 ^ c.name.length);
  const n = c.kind === 'coupled' ? c.shape!.rows * c.shape!.cols : c.length!;
  const sqLength = c.kind === 'coupled' ? c.shape!.cols : n;
  const t = {
    param: new Float32Array(n),
    grad: new Float32Array(n),
    expAvg: new Float32Array(n),
    expAvgSq: new Float32Array(sqLength),
  };
  normal(t.param, rand, 0.5);
  const ref: Reference = {
    param: Float64Array.from(t.param),
    expAvg: new Float64Array(n),
    expAvgSq: new Float64Array(sqLength),
  };
  const errors = { param: 0, expAvg: 0, expAvgSq: 0 };
  let applied = true;
  for (let step = 1; step <= c.steps; step++) {
    c.grad(t.grad, step, rand);
    const h: Hyper = { ...c.hyper, step };
    const ok = c.kind === 'coupled'
      ? await stepper.coupled(t, c.shape!, h)
      : await stepper.adam(t, h);
    applied &&= ok;
    if (c.kind === 'coupled') referenceCoupled(ref, t.grad, c.shape!, h);
    else referenceAdam(ref, t.grad, h);
    const worst = (a: number, b: number) => (Number.isNaN(b) ? NaN : Math.max(a, b));
    errors.param = worst(errors.param, relativeError(t.param, ref.param));
    errors.expAvg = worst(errors.expAvg, relativeError(t.expAvg, ref.expAvg));
    errors.expAvgSq = worst(errors.expAvgSq, relativeError(t.expAvgSq, ref.expAvgSq));
  }
  return { name: c.name, errors, applied };
}

/**
 * The optimizer case's two copies, on js and on gpujs: a 50 x 8 embedding (coupled, no weight
 * decay) and one AdamW tensor of `wLength` elements; fill() writes the same random gradients
 * into both. `Optimizer` is the entry point's CoupledAdam (Node or browser build).
 */
export function optimizerPair(Optimizer: typeof CoupledAdam, wLength: number, seed: number) {
  const make = (backend: 'js' | 'gpujs') => {
    const emb = {
      param: new Float32Array(400).map((_, i) => Math.sin(i)), grad: new Float32Array(400),
    };
    const w = {
      param: new Float32Array(wLength).map((_, i) => Math.cos(i)),
      grad: new Float32Array(wLength),
    };
    const opt = new Optimizer([
      { params: [{ name: 'wte', ...emb, embedding: { rows: 50, cols: 8 } }], weightDecay: 0 },
      { params: [{ name: 'w', ...w }] },
    ], { lr: 0.01, weightDecay: 0.1, backend });
    return { opt, emb, w };
  };
  const js = make('js');
  const gpu = make('gpujs');
  const rand = lcg(seed);
  const fill = () => {
    for (let i = 0; i < 400; i++) js.emb.grad[i] = gpu.emb.grad[i] = rand() - 0.5;
    for (let i = 0; i < wLength; i++) js.w.grad[i] = gpu.w.grad[i] = rand() - 0.5;
  };
  return { js, gpu, fill };
}
