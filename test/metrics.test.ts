// The paper's embedding metrics on matrices whose answers are known in closed form.
import { describe, expect, it } from 'vitest';
import {
  embeddingMetrics, isotropy, pearson, ranks, singularRatio, spearman,
} from '../src/metrics/embedding.js';
import { Rng } from '../src/harness/rng.js';

const uniform = (V: number) => new Array<number>(V).fill(1 / V);

function gaussian(V: number, H: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: V * H }, () => rng.normal());
}

describe('isotropy', () => {
  it('equals min Z / max Z over the axes when E^T E is diagonal', () => {
    // rows +a_k u_k and -a_k u_k: E^T E = diag(2 a_k^2), eigenvectors the axes u_k
    const a = [0.5, 1, 2];
    const H = 3, V = 2 * H;
    const E = new Float32Array(V * H);
    a.forEach((ak, k) => {
      E[(2 * k) * H + k] = ak;
      E[(2 * k + 1) * H + k] = -ak;
    });
    const Z = a.map((ak) => Math.exp(ak) + Math.exp(-ak) + (V - 2));
    expect(isotropy(E, V, H)).toBeCloseTo(Math.min(...Z) / Math.max(...Z), 6);
  });

  it('does not change under a rotation of the hidden space', () => {
    const V = 40, H = 4;
    const E = gaussian(V, H, 1);
    const c = Math.cos(0.7), s = Math.sin(0.7);
    const R = new Float32Array(V * H); // rotate the plane of units 0 and 2
    for (let i = 0; i < V; i++) {
      const x = E[i * H], z = E[i * H + 2];
      R[i * H] = c * x - s * z;
      R[i * H + 1] = E[i * H + 1];
      R[i * H + 2] = s * x + c * z;
      R[i * H + 3] = E[i * H + 3];
    }
    expect(isotropy(R, V, H)).toBeCloseTo(isotropy(E, V, H), 5);
  });

  it('is near 1 for a centred cloud and exp(-3) for one shifted by 3 along an axis', () => {
    // shifted: Z(+-u0) = V exp(+-3), Z = V elsewhere; either sign gives min / max = exp(-3)
    const V = 2000, H = 8;
    const E = gaussian(V, H, 2).map((x) => 0.05 * x);
    const centred = isotropy(E, V, H);
    for (let i = 0; i < V; i++) E[i * H] += 3;
    expect(centred).toBeGreaterThan(0.95);
    expect(isotropy(E, V, H)).toBeCloseTo(Math.exp(-3), 3);
  });
});

describe('mean embedding and norms', () => {
  it('gives ||mu|| and ||mu|| / mean ||e_i|| of a small example', () => {
    // rows (3, 4) and (3, -4): mu = (3, 0), both norms 5
    const m = embeddingMetrics(Float32Array.of(3, 4, 3, -4), 2, 2, [0.5, 0.5]);
    expect(m.meanNorm).toBeCloseTo(3, 6);
    expect(m.meanNormRatio).toBeCloseTo(0.6, 6);
  });

  it('correlates norms with log frequency, unseen tokens at log(1e-10)', () => {
    // norms 1, 2, 3 against p = 0.7, 0.3, 0: Pearson of (1,2,3) and log(p + 1e-10)
    const E = Float32Array.of(1, 0, 0, 2, 3, 0);
    const m = embeddingMetrics(E, 3, 2, [0.7, 0.3, 0]);
    const logP = [0.7, 0.3, 0].map((p) => Math.log(p + 1e-10));
    expect(m.normLogFreqPearson).toBeCloseTo(pearson([1, 2, 3], logP), 10);
    expect(m.normLogFreqPearson).toBeLessThan(-0.8);
    expect(m.normLogFreqSpearman).toBeCloseTo(-1, 10);
  });

  it('refuses mismatched shapes', () => {
    expect(() => embeddingMetrics(new Float32Array(6), 3, 3, uniform(3)))
      .toThrow('embeddingMetrics: expected E of 3 x 3');
  });
});

describe('correlations and singular values', () => {
  it('pearson is 1 for an increasing line and -1 for a decreasing one', () => {
    expect(pearson([1, 2, 3, 4], [2, 4, 6, 8])).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3, 4], [5, 3, 1, -1])).toBeCloseTo(-1, 12);
  });

  it('ranks ties by their average rank, as Spearman requires', () => {
    expect(ranks([10, 20, 20, 30])).toEqual([1, 2.5, 2.5, 4]);
    // x ranks 1..5, y ranks [1, 2.5, 2.5, 4, 5]: Pearson of those ranks
    expect(spearman([1, 2, 3, 4, 5], [0, 7, 7, 8, 9]))
      .toBeCloseTo(pearson([1, 2, 3, 4, 5], [1, 2.5, 2.5, 4, 5]), 12);
    expect(spearman([1, 2, 3], [1, 8, 27])).toBeCloseTo(1, 12);
  });

  it('S_min / S_max of a matrix with known singular values', () => {
    // rows (3, 0), (0, 1), (0, 0): singular values 3 and 1
    expect(singularRatio(Float32Array.of(3, 0, 0, 1, 0, 0), 3, 2)).toBeCloseTo(1 / 3, 10);
    // a rank-1 matrix: S_min is 0
    expect(singularRatio(Float32Array.of(1, 2, 2, 4, 3, 6), 3, 2)).toBeLessThan(1e-6);
  });
});
