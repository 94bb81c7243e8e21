// gpu.js kernel bodies: block sums of grad^2 per hidden unit, the fused Coupled Adam update
// (param and expAvg out of one pass: 12 bytes read, 8 written per element) and AdamW (16 read,
// 12 written). Formulas: shared/COUPLED_ADAM.md; gpu.js transpiles these to GLSL, WGSL or wasm.
//
// Every array a kernel sees is one piece of at most 2^22 elements (see plan.ts): GL backends
// address elements through float arithmetic, exact only below 2^24.

/** What gpu.js puts behind `this` in a kernel. */
export interface KernelThis {
  thread: { x: number; y: number; z: number };
  constants: { B: number };
}

/**
 * The line (row of a row-major matrix with lines of length n) that flat index k lies in.
 * A float quotient can land one below or above an exact multiple on GPUs whose division is
 * not correctly rounded; the remainder test corrects it, exactly, while k + n < 2^24.
 */
export function lineOf(k: number, n: number): number {
  let q = Math.floor((k + 0.5) / n);
  const r = k - q * n;
  if (r < 0) q = q - 1;
  if (r >= n) q = q + 1;
  return q;
}

/**
 * Sums of blocks of B values (squared when square > 0) along the lines of `a`.
 * layout 0: a is [len, lines] row-major and output t = b * lines + p sums column p over rows
 * b*B .. b*B+B-1. layout 1: a is [lines, len] and output t = p * nb + b sums row p. Either way
 * the output has the input's layout with len shrunk to nb = ceil(len / B), so the same kernel
 * runs again on it until nb is 1: a B-ary tree, log_B(rows) float32 sums of B terms each.
 */
export function blockSums(
  this: KernelThis,
  a: Float32Array,
  lines: number,
  len: number,
  nb: number,
  layout: number,
  square: number,
): number {
  const t = this.thread.x;
  let b = 0;
  let p = 0;
  if (layout === 0) {
    b = lineOf(t, lines);
    p = t - b * lines;
  } else {
    p = lineOf(t, nb);
    b = t - p * nb;
  }
  let s = 0;
  for (let r = 0; r < this.constants.B; r++) {
    const i = b * this.constants.B + r;
    if (i < len) {
      let v = 0;
      if (layout === 0) {
        v = a[i * lines + p];
      } else {
        v = a[p * len + i];
      }
      if (square > 0) {
        s += v * v;
      } else {
        s += v;
      }
    }
  }
  return s;
}

/** Sub-kernel marker: gpu.js stores what it is given as the `expAvg` output. */
export function newExpAvg(m: number): number {
  return m;
}

/** Sub-kernel marker for AdamW's second moment. */
export function newExpAvgSq(v: number): number {
  return v;
}

/**
 * The hidden unit of element k of a piece whose lines have length n. layout 0 ([rows, cols],
 * n = cols): the column. layout 1 ([cols, rows], n = rows): the line, counted in the piece.
 */
export function hiddenOf(k: number, n: number, layout: number): number {
  const line = lineOf(k, n);
  let j = line;
  if (layout === 0) j = k - line * n;
  return j;
}

/** Coupled update, kernel-map form: returns param, writes expAvg through newExpAvg. */
export function coupledFused(
  this: KernelThis,
  param: Float32Array,
  grad: Float32Array,
  expAvg: Float32Array,
  scale: Float32Array,
  beta1: number,
  oneMinusBeta1: number,
  decay: number,
  n: number,
  layout: number,
): number {
  const k = this.thread.x;
  const m = beta1 * expAvg[k] + oneMinusBeta1 * grad[k];
  newExpAvg(m);
  return param[k] * decay - scale[hiddenOf(k, n, layout)] * m;
}

/** First half of the coupled update where gpu.js has no kernel maps (webgpu, webasm). */
export function firstMoment(
  this: KernelThis,
  grad: Float32Array,
  expAvg: Float32Array,
  beta1: number,
  oneMinusBeta1: number,
): number {
  const k = this.thread.x;
  return beta1 * expAvg[k] + oneMinusBeta1 * grad[k];
}

/** Second half: param from the new first moment. */
export function coupledParam(
  this: KernelThis,
  param: Float32Array,
  expAvg: Float32Array,
  scale: Float32Array,
  decay: number,
  n: number,
  layout: number,
): number {
  const k = this.thread.x;
  return param[k] * decay - scale[hiddenOf(k, n, layout)] * expAvg[k];
}

/** AdamW, kernel-map form: returns param, writes expAvg and expAvgSq. */
export function adamFused(
  this: KernelThis,
  param: Float32Array,
  grad: Float32Array,
  expAvg: Float32Array,
  expAvgSq: Float32Array,
  beta1: number,
  oneMinusBeta1: number,
  beta2: number,
  oneMinusBeta2: number,
  decay: number,
  stepSize: number,
  invBc2Sqrt: number,
  eps: number,
): number {
  const k = this.thread.x;
  const g = grad[k];
  const m = beta1 * expAvg[k] + oneMinusBeta1 * g;
  const v = beta2 * expAvgSq[k] + oneMinusBeta2 * g * g;
  newExpAvg(m);
  newExpAvgSq(v);
  const denom = Math.sqrt(v) * invBc2Sqrt + eps;
  // select after dividing: a zero denominator (0/0, m is zero too) steps 0, a NaN propagates
  let u = (stepSize * m) / denom;
  if (denom === 0) u = 0;
  return param[k] * decay - u;
}

/** AdamW second moment where gpu.js has no kernel maps. */
export function secondMoment(
  this: KernelThis,
  grad: Float32Array,
  expAvgSq: Float32Array,
  beta2: number,
  oneMinusBeta2: number,
): number {
  const k = this.thread.x;
  const g = grad[k];
  return beta2 * expAvgSq[k] + oneMinusBeta2 * g * g;
}

/** AdamW param from the new moments, where gpu.js has no kernel maps. */
export function adamParam(
  this: KernelThis,
  param: Float32Array,
  expAvg: Float32Array,
  expAvgSq: Float32Array,
  decay: number,
  stepSize: number,
  invBc2Sqrt: number,
  eps: number,
): number {
  const k = this.thread.x;
  const denom = Math.sqrt(expAvgSq[k]) * invBc2Sqrt + eps;
  let u = (stepSize * expAvg[k]) / denom;
  if (denom === 0) u = 0;
  return param[k] * decay - u;
}
