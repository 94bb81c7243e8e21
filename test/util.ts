// Seeded random data and the error measure every exactness test uses.

/** mulberry32: a small, fast, seedable generator; returns floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function normals(random: () => number, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - random()));
    const a = 2 * Math.PI * random();
    out[i] = scale * r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = scale * r * Math.sin(a);
  }
  return out;
}

/**
 * Norm-wise relative error max_k |a_k - b_k| / max_k |b_k|: the measure the 1e-5 bound is
 * stated in. Element-wise ratios would be dominated by elements near zero, where float32
 * rounding of a cancelling sum is large relative to the value but not to the tensor.
 */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let k = 0; k < a.length; k++) {
    const x = a[k];
    const y = b[k];
    if (x !== x || y !== y) {
      if ((x !== x) !== (y !== y)) return Infinity; // NaN on one side only
      continue;
    }
    const d = Math.abs(x - y);
    if (d > diff) diff = d;
    if (Math.abs(y) > scale) scale = Math.abs(y);
  }
  return scale === 0 ? diff : diff / scale;
}

/** a - b element-wise, in double. */
export function minus(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length);
  for (let k = 0; k < a.length; k++) out[k] = a[k] - b[k];
  return out;
}
