// A tied-embedding probe model, small enough to train in a page: e = E[x], h = tanh(W e + b),
// logits = E h, softmax cross-entropy on the next token y. The output path sends the embedding
// a gradient that sums to zero over the vocabulary (shared/COUPLED_ADAM.md), so any drift of
// the mean embedding comes from the optimizer. Stand-in for the harness decoder (src/harness).

/** Zipf-distributed token pairs (x, y): y is x shifted by a Zipf offset, mod V. */
export class PairSource {
  private cdf: Float64Array;
  private state: number;

  constructor(readonly V: number, seed: number) {
    this.cdf = new Float64Array(V);
    let s = 0;
    for (let i = 0; i < V; i++) this.cdf[i] = s += 1 / (i + 1);
    for (let i = 0; i < V; i++) this.cdf[i] /= s;
    this.state = seed >>> 0;
  }

  uniform(): number {
    this.state = (Math.imul(this.state, 1664525) + 1013904223) >>> 0;
    return this.state / 2 ** 32;
  }

  zipf(): number {
    const u = this.uniform();
    let lo = 0;
    let hi = this.V - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  batch(B: number): { x: Int32Array; y: Int32Array } {
    const x = new Int32Array(B);
    const y = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      x[b] = this.zipf();
      y[b] = (x[b] + this.zipf() % 16) % this.V;
    }
    return { x, y };
  }
}

export class Probe {
  readonly wte: Float32Array; // [V, H]
  readonly w: Float32Array; // [H, H]
  readonly b: Float32Array; // [H]
  readonly dwte: Float32Array;
  readonly dw: Float32Array;
  readonly db: Float32Array;

  constructor(readonly V: number, readonly H: number, seed: number) {
    const src = new PairSource(V, seed);
    const init = (n: number, std: number) =>
      Float32Array.from({ length: n }, () => std * (src.uniform() * 2 - 1) * Math.sqrt(3));
    this.wte = init(V * H, 0.1);
    this.w = init(H * H, 1 / Math.sqrt(H));
    this.b = new Float32Array(H);
    this.dwte = new Float32Array(V * H);
    this.dw = new Float32Array(H * H);
    this.db = new Float32Array(H);
  }

  /** Mean loss of the batch; gradients (batch means) into dwte, dw, db. */
  forwardBackward(x: Int32Array, y: Int32Array): number {
    const { V, H, wte, w, b, dwte, dw, db } = this;
    dwte.fill(0);
    dw.fill(0);
    db.fill(0);
    const h = new Float64Array(H);
    const logits = new Float64Array(V);
    const dh = new Float64Array(H);
    const inv = 1 / x.length;
    let loss = 0;
    for (let n = 0; n < x.length; n++) {
      const e = x[n] * H;
      // forward: h = tanh(W e + b), logits = E h
      for (let i = 0; i < H; i++) {
        let z = b[i];
        for (let j = 0; j < H; j++) z += w[i * H + j] * wte[e + j];
        h[i] = Math.tanh(z);
      }
      let max = -Infinity;
      for (let v = 0; v < V; v++) {
        let s = 0;
        for (let i = 0; i < H; i++) s += wte[v * H + i] * h[i];
        logits[v] = s;
        max = Math.max(max, s);
      }
      let sum = 0;
      for (let v = 0; v < V; v++) sum += (logits[v] = Math.exp(logits[v] - max));
      loss -= Math.log(logits[y[n]] / sum);

      // backward: dlogits = p - onehot(y)
      dh.fill(0);
      for (let v = 0; v < V; v++) {
        const dl = (logits[v] / sum - (v === y[n] ? 1 : 0)) * inv;
        for (let i = 0; i < H; i++) {
          dwte[v * H + i] += dl * h[i];
          dh[i] += dl * wte[v * H + i];
        }
      }
      for (let i = 0; i < H; i++) {
        const dz = dh[i] * (1 - h[i] * h[i]);
        db[i] += dz;
        for (let j = 0; j < H; j++) {
          dw[i * H + j] += dz * wte[e + j];
          dwte[e + j] += dz * w[i * H + j];
        }
      }
    }
    return loss * inv;
  }
}

/** ||mu|| / mean_i ||e_i|| of a [V, H] embedding (the paper's section 4.3). */
export function meanNormRatio(wte: Float32Array, V: number, H: number): number {
  const mu = new Float64Array(H);
  let norms = 0;
  for (let v = 0; v < V; v++) {
    let s = 0;
    for (let i = 0; i < H; i++) {
      const e = wte[v * H + i];
      mu[i] += e / V;
      s += e * e;
    }
    norms += Math.sqrt(s) / V;
  }
  return Math.hypot(...mu) / norms;
}
