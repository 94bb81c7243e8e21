// Training and evaluation batches: windows of T + 1 tokens from a token stream. No Node
// modules, so that a browser page can sample the same way (data.ts reads files).
import type { Rng } from './rng.js';

export interface Batch {
  /** [B, T] */
  tokens: Int32Array;
  /** [B, T]: the next token of each position. */
  targets: Int32Array;
}

/** B windows of T + 1 tokens at random offsets. */
export function sampleBatch(split: Int32Array, B: number, T: number, rng: Rng): Batch {
  if (split.length < T + 1) {
    throw new RangeError(`sampleBatch: expected a split of at least ${T + 1} tokens but ` +
      `received ${split.length}`);
  }
  const tokens = new Int32Array(B * T), targets = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const start = rng.int(split.length - T);
    tokens.set(split.subarray(start, start + T), b * T);
    targets.set(split.subarray(start + 1, start + T + 1), b * T);
  }
  return { tokens, targets };
}

/** At most `limit` batches of windows spread evenly over the split: a fixed evaluation set. */
export function evalBatches(split: Int32Array, B: number, T: number, limit: number): Batch[] {
  const windows = Math.floor((split.length - 1) / T);
  const count = Math.min(limit, Math.floor(windows / B)) * B;
  const batches: Batch[] = [];
  for (let j = 0; j < count; j += B) {
    const tokens = new Int32Array(B * T), targets = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      const start = Math.floor(((j + b) * windows) / count) * T;
      tokens.set(split.subarray(start, start + T), b * T);
      targets.set(split.subarray(start + 1, start + T + 1), b * T);
    }
    batches.push({ tokens, targets });
  }
  return batches;
}
