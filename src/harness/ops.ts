// The decoder's operations, forward and backward, on row-major Float32Array buffers.
// N = B * T rows (token positions). Backward functions add into their gradient outputs
// (linearBackward's dInp excepted); parameter gradients accumulate until zeroGrad().
// Shapes and formulas follow GPT-2 (nanoGPT's model.py, llm.c's train_gpt2.c).

const GELU_SCALE = Math.sqrt(2 / Math.PI);

/**
 * out[n, o] = sum_i a[n, i] * b[o, i] (added to out when accumulate), a [N, I], b [O, I]: the one
 * matrix product of the harness. Tiles of 4 x 4 outputs keep 8 operands and 16 sums in
 * registers, so each loaded element serves four multiply-adds (perf: 1.37 times the speed of
 * one output column at a time, 1.1-1.3 GMAC/s in V8 here; bench/harness.mjs).
 */
export function matmulABt(
  out: Float32Array, a: Float32Array, b: Float32Array,
  N: number, I: number, O: number, accumulate: boolean,
): void {
  const N4 = N - (N % 4), O4 = O - (O % 4);
  for (let n = 0; n < N4; n += 4) {
    const r0 = n * I, r1 = r0 + I, r2 = r1 + I, r3 = r2 + I;
    for (let o = 0; o < O4; o += 4) {
      const w0 = o * I, w1 = w0 + I, w2 = w1 + I, w3 = w2 + I;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let i = 0; i < I; i++) {
        const a0 = a[r0 + i], a1 = a[r1 + i], a2 = a[r2 + i], a3 = a[r3 + i];
        const b0 = b[w0 + i], b1 = b[w1 + i], b2 = b[w2 + i], b3 = b[w3 + i];
        s00 += a0 * b0; s01 += a0 * b1; s02 += a0 * b2; s03 += a0 * b3;
        s10 += a1 * b0; s11 += a1 * b1; s12 += a1 * b2; s13 += a1 * b3;
        s20 += a2 * b0; s21 += a2 * b1; s22 += a2 * b2; s23 += a2 * b3;
        s30 += a3 * b0; s31 += a3 * b1; s32 += a3 * b2; s33 += a3 * b3;
      }
      const k = accumulate ? 1 : 0;
      let q = n * O + o;
      out[q] = k * out[q] + s00; out[q + 1] = k * out[q + 1] + s01;
      out[q + 2] = k * out[q + 2] + s02; out[q + 3] = k * out[q + 3] + s03;
      q += O;
      out[q] = k * out[q] + s10; out[q + 1] = k * out[q + 1] + s11;
      out[q + 2] = k * out[q + 2] + s12; out[q + 3] = k * out[q + 3] + s13;
      q += O;
      out[q] = k * out[q] + s20; out[q + 1] = k * out[q + 1] + s21;
      out[q + 2] = k * out[q + 2] + s22; out[q + 3] = k * out[q + 3] + s23;
      q += O;
      out[q] = k * out[q] + s30; out[q + 1] = k * out[q + 1] + s31;
      out[q + 2] = k * out[q + 2] + s32; out[q + 3] = k * out[q + 3] + s33;
    }
    for (let o = O4; o < O; o++) {
      for (let r = n; r < n + 4; r++) dotInto(out, a, b, r, o, I, O, accumulate);
    }
  }
  for (let n = N4; n < N; n++) {
    for (let o = 0; o < O; o++) dotInto(out, a, b, n, o, I, O, accumulate);
  }
}

/** One output of matmulABt, for the rows and columns left over by its 4 x 4 tiles. */
function dotInto(
  out: Float32Array, a: Float32Array, b: Float32Array,
  n: number, o: number, I: number, O: number, accumulate: boolean,
): void {
  let s = 0;
  for (let i = 0; i < I; i++) s += a[n * I + i] * b[o * I + i];
  out[n * O + o] = (accumulate ? out[n * O + o] : 0) + s;
}

/** dst[C, R] = src[R, C]^T. */
export function transpose(dst: Float32Array, src: Float32Array, R: number, C: number): void {
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++) dst[c * R + r] = src[r * C + c];
  }
}

// Transposed copies for linearBackward, grown on demand. The harness runs on one thread, so
// one set serves every call.
let weightT: Float32Array = new Float32Array(0);
let dOutT: Float32Array = new Float32Array(0);
let inpT: Float32Array = new Float32Array(0);

function grown(buf: Float32Array, n: number): Float32Array {
  return buf.length >= n ? buf : new Float32Array(n);
}

/**
 * out[N, O] = inp[N, I] . weight[O, I]^T + bias[O]: nn.Linear's layout, so the output layer
 * can be the embedding matrix [V, C] itself.
 */
export function linearForward(
  out: Float32Array, inp: Float32Array, weight: Float32Array, bias: Float32Array | null,
  N: number, I: number, O: number,
): void {
  matmulABt(out, inp, weight, N, I, O, false);
  if (bias === null) return;
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) out[n * O + o] += bias[o];
  }
}

/**
 * Backward of linearForward: dInp = dOut . weight (overwritten), dWeight += dOut^T . inp,
 * dBias += column sums of dOut. Both products become matmulABt on transposed copies, whose
 * inner loops run over contiguous memory; the copies cost O(N I + N O) against O(N I O).
 */
export function linearBackward(
  dInp: Float32Array, dWeight: Float32Array, dBias: Float32Array | null,
  dOut: Float32Array, inp: Float32Array, weight: Float32Array,
  N: number, I: number, O: number,
): void {
  weightT = grown(weightT, I * O);
  dOutT = grown(dOutT, O * N);
  inpT = grown(inpT, I * N);
  transpose(weightT, weight, O, I);
  transpose(dOutT, dOut, N, O);
  transpose(inpT, inp, N, I);

  matmulABt(dInp, dOut, weightT, N, O, I, false);
  matmulABt(dWeight, dOutT, inpT, O, N, I, true);
  if (dBias === null) return;
  for (let o = 0; o < O; o++) {
    let s = 0;
    for (let n = 0; n < N; n++) s += dOutT[o * N + n];
    dBias[o] += s;
  }
}

/** out = (x - mean) / sqrt(var + 1e-5) * weight + bias per row; keeps mean and rstd. */
export function layerNormForward(
  out: Float32Array, mean: Float32Array, rstd: Float32Array,
  x: Float32Array, weight: Float32Array, bias: Float32Array, N: number, C: number,
): void {
  for (let n = 0; n < N; n++) {
    const r = n * C;
    let m = 0;
    for (let c = 0; c < C; c++) m += x[r + c];
    m /= C;
    let v = 0;
    for (let c = 0; c < C; c++) {
      const d = x[r + c] - m;
      v += d * d;
    }
    const s = 1 / Math.sqrt(v / C + 1e-5);
    for (let c = 0; c < C; c++) out[r + c] = (x[r + c] - m) * s * weight[c] + bias[c];
    mean[n] = m;
    rstd[n] = s;
  }
}

/** Backward of layerNormForward: dx += ..., dWeight += ..., dBias += ... */
export function layerNormBackward(
  dx: Float32Array, dWeight: Float32Array, dBias: Float32Array, dOut: Float32Array,
  x: Float32Array, weight: Float32Array, mean: Float32Array, rstd: Float32Array,
  N: number, C: number,
): void {
  for (let n = 0; n < N; n++) {
    const r = n * C, m = mean[n], s = rstd[n];
    // the two means the normalisation couples every element of the row through
    let dNormMean = 0, dNormDotNorm = 0;
    for (let c = 0; c < C; c++) {
      const norm = (x[r + c] - m) * s;
      const dNorm = weight[c] * dOut[r + c];
      dNormMean += dNorm;
      dNormDotNorm += dNorm * norm;
    }
    dNormMean /= C;
    dNormDotNorm /= C;
    for (let c = 0; c < C; c++) {
      const norm = (x[r + c] - m) * s;
      const dNorm = weight[c] * dOut[r + c];
      dWeight[c] += norm * dOut[r + c];
      dBias[c] += dOut[r + c];
      dx[r + c] += (dNorm - dNormMean - norm * dNormDotNorm) * s;
    }
  }
}

/**
 * Causal multi-head self-attention. qkv [B, T, 3C] holds q, k, v side by side per position;
 * att [B, NH, T, T] keeps the softmax probabilities for backward; out [B, T, C].
 */
export function attentionForward(
  out: Float32Array, att: Float32Array, qkv: Float32Array,
  B: number, T: number, C: number, NH: number,
): void {
  const hs = C / NH, C3 = 3 * C, scale = 1 / Math.sqrt(hs);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let t = 0; t < T; t++) {
        const q = (b * T + t) * C3 + h * hs;
        const a = ((b * NH + h) * T + t) * T;

        // scores against positions 0..t, then a numerically safe softmax
        let max = -Infinity;
        for (let t2 = 0; t2 <= t; t2++) {
          const k = (b * T + t2) * C3 + C + h * hs;
          let s = 0;
          for (let i = 0; i < hs; i++) s += qkv[q + i] * qkv[k + i];
          s *= scale;
          att[a + t2] = s;
          if (s > max) max = s;
        }
        let sum = 0;
        for (let t2 = 0; t2 <= t; t2++) {
          const e = Math.exp(att[a + t2] - max);
          att[a + t2] = e;
          sum += e;
        }
        const inv = 1 / sum;
        for (let t2 = 0; t2 <= t; t2++) att[a + t2] *= inv;
        for (let t2 = t + 1; t2 < T; t2++) att[a + t2] = 0;

        // weighted sum of the values
        const o = (b * T + t) * C + h * hs;
        for (let i = 0; i < hs; i++) out[o + i] = 0;
        for (let t2 = 0; t2 <= t; t2++) {
          const v = (b * T + t2) * C3 + 2 * C + h * hs;
          const p = att[a + t2];
          for (let i = 0; i < hs; i++) out[o + i] += p * qkv[v + i];
        }
      }
    }
  }
}

/** Backward of attentionForward: dqkv += ...; scratch holds T floats. */
export function attentionBackward(
  dqkv: Float32Array, dOut: Float32Array, qkv: Float32Array, att: Float32Array,
  scratch: Float32Array, B: number, T: number, C: number, NH: number,
): void {
  const hs = C / NH, C3 = 3 * C, scale = 1 / Math.sqrt(hs);
  const dAtt = scratch;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let t = 0; t < T; t++) {
        const a = ((b * NH + h) * T + t) * T;
        const o = (b * T + t) * C + h * hs;
        const q = (b * T + t) * C3 + h * hs;

        // through the weighted sum: gradients of the probabilities and of the values
        let dot = 0;
        for (let t2 = 0; t2 <= t; t2++) {
          const v = (b * T + t2) * C3 + 2 * C + h * hs;
          const p = att[a + t2];
          let d = 0;
          for (let i = 0; i < hs; i++) {
            d += dOut[o + i] * qkv[v + i];
            dqkv[v + i] += p * dOut[o + i];
          }
          dAtt[t2] = d;
          dot += p * d;
        }

        // through the softmax, then the scaled dot products
        for (let t2 = 0; t2 <= t; t2++) {
          const dScore = att[a + t2] * (dAtt[t2] - dot) * scale;
          const k = (b * T + t2) * C3 + C + h * hs;
          for (let i = 0; i < hs; i++) {
            dqkv[q + i] += dScore * qkv[k + i];
            dqkv[k + i] += dScore * qkv[q + i];
          }
        }
      }
    }
  }
}

/** GPT-2's tanh approximation of GeLU. */
export function geluForward(out: Float32Array, x: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[i];
    out[i] = 0.5 * v * (1 + Math.tanh(GELU_SCALE * (v + 0.044715 * v * v * v)));
  }
}

export function geluBackward(dx: Float32Array, dOut: Float32Array, x: Float32Array, n: number) {
  for (let i = 0; i < n; i++) {
    const v = x[i];
    const u = GELU_SCALE * (v + 0.044715 * v * v * v);
    const th = Math.tanh(u);
    const sech2 = 1 - th * th;
    const du = GELU_SCALE * (1 + 3 * 0.044715 * v * v);
    dx[i] += dOut[i] * (0.5 * (1 + th) + 0.5 * v * sech2 * du);
  }
}

/**
 * Softmax cross-entropy, mean over the N rows. Turns logits [N, V] into probabilities in place
 * and returns the loss; the sums run in float64 (JS numbers).
 */
export function crossEntropyForward(
  logits: Float32Array, targets: Int32Array, N: number, V: number,
): number {
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const r = n * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (logits[r + v] > max) max = logits[r + v];
    const target = logits[r + targets[n]];
    let sum = 0;
    for (let v = 0; v < V; v++) {
      const e = Math.exp(logits[r + v] - max);
      logits[r + v] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let v = 0; v < V; v++) logits[r + v] *= inv;
    // log-sum-exp in float64: a float32 probability can round to 0
    loss += Math.log(sum) + max - target;
  }
  return loss / N;
}

/** dLogits = (probs - onehot(target)) / N, in place over the probabilities. */
export function crossEntropyBackward(
  probs: Float32Array, targets: Int32Array, N: number, V: number,
): void {
  const inv = 1 / N;
  for (let n = 0; n < N; n++) {
    const r = n * V;
    for (let v = 0; v < V; v++) probs[r + v] *= inv;
    probs[r + targets[n]] -= inv;
  }
}
