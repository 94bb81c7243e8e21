// The paper's embedding metrics (section 4.3, as its analysis code computes them) for a matrix
// E [V, H] with rows e_i: isotropy, the mean embedding and its norm ratio, the correlation of
// norms with log unigram probability, and the ratio of extreme singular values.
import { EigenvalueDecomposition, Matrix, SingularValueDecomposition } from 'ml-matrix';

export interface EmbeddingMetrics {
  /** min_c Z(c) / max_c Z(c), c over the eigenvectors of E^T E; 1 is isotropic. */
  isotropy: number;
  /** ||mu||, mu = (1/V) sum_i e_i. */
  meanNorm: number;
  /** ||mu|| / mean_i ||e_i||. */
  meanNormRatio: number;
  /** Pearson correlation of ||e_i|| and log(p_i + 1e-10). */
  normLogFreqPearson: number;
  /** Spearman (rank) correlation of the same. */
  normLogFreqSpearman: number;
  /** S_min / S_max of E. */
  singularRatio: number;
}

/** E [V, H] row-major; unigram [V]: probabilities of the tokens in the training data. */
export function embeddingMetrics(
  E: Float32Array, V: number, H: number, unigram: ArrayLike<number>,
): EmbeddingMetrics {
  if (E.length !== V * H || unigram.length !== V || V < 2) {
    throw new RangeError(`embeddingMetrics: expected E of ${V} x ${H} (V >= 2) and ${V} ` +
      `probabilities but received ${E.length} elements and ${unigram.length} probabilities`);
  }
  const norms = rowNorms(E, V, H);
  const mu = new Float64Array(H);
  for (let i = 0; i < V; i++) {
    for (let j = 0; j < H; j++) mu[j] += E[i * H + j] / V;
  }
  const meanNorm = Math.hypot(...mu);
  const logP = Array.from(unigram, (p) => Math.log(p + 1e-10));
  return {
    isotropy: isotropy(E, V, H),
    meanNorm,
    meanNormRatio: meanNorm / (norms.reduce((s, n) => s + n, 0) / V),
    normLogFreqPearson: pearson(norms, logP),
    normLogFreqSpearman: spearman(norms, logP),
    singularRatio: singularRatio(E, V, H),
  };
}

export function rowNorms(E: Float32Array, V: number, H: number): number[] {
  const norms: number[] = [];
  for (let i = 0; i < V; i++) {
    let s = 0;
    for (let j = 0; j < H; j++) s += E[i * H + j] ** 2;
    norms.push(Math.sqrt(s));
  }
  return norms;
}

/**
 * Iso(E) = min_c Z(c) / max_c Z(c), Z(c) = sum_i exp(c . e_i). The sums are taken in log space
 * (log-sum-exp), so embeddings with large norms do not overflow.
 */
export function isotropy(E: Float32Array, V: number, H: number): number {
  const gram = new Matrix(H, H); // E^T E, accumulated in float64
  for (let a = 0; a < H; a++) {
    for (let b = a; b < H; b++) {
      let s = 0;
      for (let i = 0; i < V; i++) s += E[i * H + a] * E[i * H + b];
      gram.set(a, b, s);
      gram.set(b, a, s);
    }
  }
  const vectors = new EigenvalueDecomposition(gram, { assumeSymmetric: true }).eigenvectorMatrix;
  let minLogZ = Infinity, maxLogZ = -Infinity;
  const dots = new Float64Array(V);
  for (let k = 0; k < H; k++) {
    const c = vectors.getColumn(k);
    let max = -Infinity;
    for (let i = 0; i < V; i++) {
      let s = 0;
      for (let j = 0; j < H; j++) s += c[j] * E[i * H + j];
      dots[i] = s;
      if (s > max) max = s;
    }
    let sum = 0;
    for (let i = 0; i < V; i++) sum += Math.exp(dots[i] - max);
    const logZ = max + Math.log(sum);
    minLogZ = Math.min(minLogZ, logZ);
    maxLogZ = Math.max(maxLogZ, logZ);
  }
  return Math.exp(minLogZ - maxLogZ);
}

/** S_min / S_max over the min(V, H) singular values of E. */
export function singularRatio(E: Float32Array, V: number, H: number): number {
  const rows: number[][] = [];
  for (let i = 0; i < V; i++) rows.push(Array.from(E.subarray(i * H, (i + 1) * H)));
  const s = new SingularValueDecomposition(rows, {
    computeLeftSingularVectors: false, computeRightSingularVectors: false, autoTranspose: true,
  }).diagonal;
  return Math.min(...s) / Math.max(...s);
}

export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** Pearson correlation of the ranks; tied values share their average rank. */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  return pearson(ranks(x), ranks(y));
}

export function ranks(x: ArrayLike<number>): number[] {
  const order = Array.from({ length: x.length }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const r = new Array<number>(x.length);
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && x[order[end]] === x[order[start]]) end++;
    const average = (start + end - 1) / 2 + 1;
    for (let k = start; k < end; k++) r[order[k]] = average;
    start = end;
  }
  return r;
}
