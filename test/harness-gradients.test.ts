// The decoder's hand-written backward against central finite differences of its forward.
import { describe, expect, it } from 'vitest';
import { GPT } from '../src/harness/model.js';
import { Rng } from '../src/harness/rng.js';

const B = 2, T = 5;

function batch(V: number, seed: number) {
  const rng = new Rng(seed);
  const tokens = Int32Array.from({ length: B * T }, () => rng.int(V));
  const targets = Int32Array.from({ length: B * T }, () => rng.int(V));
  return { tokens, targets };
}

/**
 * Compares analytic and numeric gradients of a few entries of every parameter: the largest
 * ones and some random ones. The forward runs in float32, so the step is large (1e-2 of the
 * scale) and the tolerance mixes absolute and relative error.
 */
function checkGradients(model: GPT, tokens: Int32Array, targets: Int32Array) {
  model.zeroGrad();
  model.forward(tokens, targets, B, T);
  model.backward();
  const rng = new Rng(7);
  let checked = 0;
  for (const p of model.params) {
    const analytic = p.grad.slice();
    const order = Array.from(analytic.keys()).sort((i, j) => Math.abs(analytic[j]) -
      Math.abs(analytic[i]));
    const picks = [...order.slice(0, 3), rng.int(p.data.length), rng.int(p.data.length)];
    for (const i of picks) {
      const x = p.data[i];
      const h = 1e-2 * Math.max(Math.abs(x), 0.05);
      p.data[i] = x + h;
      const up = model.forward(tokens, targets, B, T);
      p.data[i] = x - h;
      const down = model.forward(tokens, targets, B, T);
      p.data[i] = x;
      const numeric = (up - down) / (2 * h);
      const err = Math.abs(numeric - analytic[i]);
      expect(err, `${p.name}[${i}]: numeric ${numeric}, analytic ${analytic[i]}`)
        .toBeLessThan(5e-4 + 1e-2 * Math.abs(numeric));
      checked++;
    }
  }
  return checked;
}

describe('GPT backward', () => {
  for (const tiedOutput of [true, false]) {
    it(`matches finite differences (${tiedOutput ? 'tied' : 'untied'} output)`, () => {
      const V = 11;
      const model = new GPT({ vocabSize: V, contextLength: 6, width: 8, layers: 2, heads: 2,
        tiedOutput }, 3);
      // larger weights than GPT-2's init make every path carry a visible gradient
      const rng = new Rng(5);
      for (const p of model.params) {
        for (let i = 0; i < p.data.length; i++) p.data[i] += 0.3 * rng.normal();
      }
      const { tokens, targets } = batch(V, 11);
      expect(checkGradients(model, tokens, targets)).toBe(model.params.length * 5);
    });
  }

  it('gives a nonzero gradient to every parameter', () => {
    const model = new GPT({ vocabSize: 9, contextLength: 5, width: 8, layers: 1, heads: 2 }, 1);
    const { tokens, targets } = batch(9, 2);
    model.forward(tokens, targets, B, T);
    model.backward();
    for (const p of model.params) expect(p.grad.some((g) => g !== 0), p.name).toBe(true);
  });

  it('refuses a backward without a forward, and bad token ids', () => {
    const model = new GPT({ vocabSize: 9, contextLength: 5, width: 8, layers: 1, heads: 2 }, 1);
    expect(() => model.backward()).toThrow(/expected a forward\(\)/);
    const bad = new Int32Array(B * T).fill(9);
    expect(() => model.forward(bad, bad, B, T)).toThrow(/token ids in \[0, 9\)/);
  });
});
