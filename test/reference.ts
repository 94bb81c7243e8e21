// Float64 references of both updates, written from shared/COUPLED_ADAM.md independently of
// src/: every backend is compared against these, never against another backend.

export interface RefHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  avgScale: number;
}

export interface RefShape {
  rows: number;
  cols: number;
  vocabAxis: 0 | 1;
}

/** Index of element (token i, hidden unit j) in storage. */
export function at(shape: RefShape, i: number, j: number): number {
  return shape.vocabAxis === 0 ? i * shape.cols + j : j * shape.rows + i;
}

/** Coupled Adam with the compact state: vbar[cols]. */
export class CoupledRef {
  readonly param: Float64Array;
  readonly expAvg: Float64Array;
  readonly expAvgSq: Float64Array;
  step = 0;

  constructor(param: ArrayLike<number>, readonly shape: RefShape) {
    this.param = Float64Array.from(param);
    this.expAvg = new Float64Array(param.length);
    this.expAvgSq = new Float64Array(shape.cols);
  }

  update(grad: ArrayLike<number>, h: RefHyper): void {
    const { rows, cols } = this.shape;
    const t = ++this.step;
    for (let j = 0; j < cols; j++) {
      let meanSq = 0;
      for (let i = 0; i < rows; i++) meanSq += (grad[at(this.shape, i, j)] ** 2) / rows;
      this.expAvgSq[j] = h.beta2 * this.expAvgSq[j] + (1 - h.beta2) * meanSq;
    }
    const stepSize = h.lr / (1 - h.beta1 ** t);
    for (let j = 0; j < cols; j++) {
      const denom = Math.sqrt((h.avgScale * this.expAvgSq[j]) / (1 - h.beta2 ** t)) + h.eps;
      for (let i = 0; i < rows; i++) {
        const k = at(this.shape, i, j);
        this.param[k] *= 1 - h.lr * h.weightDecay;
        this.expAvg[k] = h.beta1 * this.expAvg[k] + (1 - h.beta1) * grad[k];
        const m = this.expAvg[k];
        this.param[k] -= denom === 0 && m === 0 ? 0 : (stepSize * m) / denom;
      }
    }
  }
}

/**
 * The paper's own formulation: a full per-element second moment v[rows * cols], replaced in
 * the denominator by avgScale times its vocabulary mean at every step.
 */
export class PaperCoupledRef {
  readonly param: Float64Array;
  readonly expAvg: Float64Array;
  readonly fullExpAvgSq: Float64Array;
  step = 0;

  constructor(param: ArrayLike<number>, readonly shape: RefShape) {
    this.param = Float64Array.from(param);
    this.expAvg = new Float64Array(param.length);
    this.fullExpAvgSq = new Float64Array(param.length);
  }

  update(grad: ArrayLike<number>, h: RefHyper): void {
    const { rows, cols } = this.shape;
    const t = ++this.step;
    for (let k = 0; k < this.param.length; k++) {
      this.fullExpAvgSq[k] = h.beta2 * this.fullExpAvgSq[k] + (1 - h.beta2) * grad[k] ** 2;
    }
    for (let j = 0; j < cols; j++) {
      let mean = 0;
      for (let i = 0; i < rows; i++) mean += this.fullExpAvgSq[at(this.shape, i, j)] / rows;
      const vHat = (h.avgScale * mean) / (1 - h.beta2 ** t);
      for (let i = 0; i < rows; i++) {
        const k = at(this.shape, i, j);
        this.param[k] *= 1 - h.lr * h.weightDecay;
        this.expAvg[k] = h.beta1 * this.expAvg[k] + (1 - h.beta1) * grad[k];
        this.param[k] -= ((h.lr / (1 - h.beta1 ** t)) * this.expAvg[k]) / (Math.sqrt(vHat) + h.eps);
      }
    }
  }
}

/** AdamW as torch.optim.AdamW: decoupled decay, eps after the square root. */
export class AdamRef {
  readonly param: Float64Array;
  readonly expAvg: Float64Array;
  readonly expAvgSq: Float64Array;
  step = 0;

  constructor(param: ArrayLike<number>) {
    this.param = Float64Array.from(param);
    this.expAvg = new Float64Array(param.length);
    this.expAvgSq = new Float64Array(param.length);
  }

  update(grad: ArrayLike<number>, h: RefHyper): void {
    const t = ++this.step;
    for (let k = 0; k < this.param.length; k++) {
      this.param[k] *= 1 - h.lr * h.weightDecay;
      this.expAvg[k] = h.beta1 * this.expAvg[k] + (1 - h.beta1) * grad[k];
      this.expAvgSq[k] = h.beta2 * this.expAvgSq[k] + (1 - h.beta2) * grad[k] ** 2;
      const denom = Math.sqrt(this.expAvgSq[k] / (1 - h.beta2 ** t)) + h.eps;
      this.param[k] -= ((h.lr / (1 - h.beta1 ** t)) * this.expAvg[k]) / denom;
    }
  }
}
