// Synthetic training text for the page, so that no tokenizer or corpus has to be downloaded:
// token ids whose frequencies fall off like Zipf's law (p ~ 1 / rank), as in natural text, so
// that most of the vocabulary is rare, the regime where Adam and Coupled Adam part. Half the
// tokens follow from the previous one through a fixed random successor table, which gives the
// decoder something to learn beyond the unigram distribution.
import { Rng } from '../../src/harness/rng.js';

export interface ZipfText {
  tokens: Int32Array;
  /** [V]: frequency of each token in `tokens`. */
  unigram: Float64Array;
}

export function zipfText(V: number, length: number, seed: number): ZipfText {
  const rng = new Rng(seed);
  const cdf = new Float64Array(V);
  let s = 0;
  for (let i = 0; i < V; i++) cdf[i] = s += 1 / (i + 1);
  const zipf = () => {
    const u = rng.next() * s;
    let lo = 0;
    let hi = V - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] <= u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const successor = Int32Array.from({ length: V }, zipf);
  const tokens = new Int32Array(length);
  const unigram = new Float64Array(V);
  tokens[0] = zipf();
  for (let t = 1; t < length; t++) {
    tokens[t] = rng.next() < 0.5 ? successor[tokens[t - 1]] : zipf();
  }
  for (const t of tokens) unigram[t] += 1 / length;
  return { tokens, unigram };
}
