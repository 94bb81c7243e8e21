// The paper's recipe at small scale (its Tables 5 and 6), the part that runs anywhere (Node or
// a browser page): the configuration, the learning-rate schedule, gradient clipping, and the
// optimizer over the decoder's parameters, AdamW for all but the vocabulary matrices.
import { CoupledAdam, type ParamSpec } from '../optimizer.js';
import type { BackendChoice } from '../types.js';
import type { Batch } from './batches.js';
import { GPT, type Param } from './model.js';

export type EmbeddingOptimizer = 'adam' | 'coupled-adam';
export const OPTIMIZERS: EmbeddingOptimizer[] = ['adam', 'coupled-adam'];

export interface TrainConfig {
  steps: number;
  /** B: sequences per step. */
  batchSize: number;
  /** T: tokens per sequence. */
  contextLength: number;
  width: number;
  layers: number;
  heads: number;
  /** K: vocabulary kept (plus one unknown token). */
  topK: number;
  /** Peak learning rate. */
  lr: number;
  warmupSteps: number;
  /** The cosine decay ends at lr * minLrRatio. */
  minLrRatio: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** On matrices; the embedding, LayerNorm gains and biases get none. */
  weightDecay: number;
  /** Clip the global gradient norm to this. */
  gradClip: number;
  /** False: a separate output layer [V, C] instead of the tied embedding. */
  tiedOutput: boolean;
  /** Weight decay of the untied output layer. */
  outputWeightDecay: number;
  seed: number;
  /** Validation loss and metrics every this many steps (and at the first and last). */
  evalEvery: number;
  /** Validation batches of B x T tokens each. */
  evalBatches: number;
  backend: BackendChoice;
}

/**
 * The default `npm start` run: about 160 s of CPU time in all, so about 1.5 minutes on two idle
 * cores (two worker threads). With K = 1024 most of the vocabulary is rare (the 500th token has
 * p = 2.2e-4: one occurrence in nine 512-token batches), where Adam and Coupled Adam part.
 */
export const DEFAULT_CONFIG: TrainConfig = {
  steps: 256,
  batchSize: 8,
  contextLength: 64,
  width: 64,
  layers: 2,
  heads: 4,
  topK: 1024,
  lr: 3e-3,
  warmupSteps: 26,
  minLrRatio: 0.1,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 0.1,
  gradClip: 1,
  tiedOutput: true,
  outputWeightDecay: 0,
  seed: 1,
  evalEvery: 32,
  evalBatches: 8,
  backend: 'auto',
};

/** Linear warmup to lr, then cosine decay to lr * minLrRatio at the last step (step is 1-based). */
export function lrAt(step: number, c: Pick<TrainConfig, 'lr' | 'warmupSteps' | 'minLrRatio' |
  'steps'>): number {
  if (step <= c.warmupSteps) return (c.lr * step) / c.warmupSteps;
  const progress = Math.min(1, (step - c.warmupSteps) / Math.max(1, c.steps - c.warmupSteps));
  const min = c.lr * c.minLrRatio;
  return min + 0.5 * (c.lr - min) * (1 + Math.cos(Math.PI * progress));
}

/** The decoder of the configuration over a vocabulary of V tokens, initialised from c.seed. */
export function createModel(V: number, c: TrainConfig): GPT {
  return new GPT({
    vocabSize: V, contextLength: c.contextLength, width: c.width, layers: c.layers,
    heads: c.heads, tiedOutput: c.tiedOutput,
  }, c.seed);
}

/**
 * The optimizer of one run: weight decay on matrices only; for 'coupled-adam' the vocabulary
 * matrices (wte, and lmHead when untied) get the coupled update, for 'adam' plain Adam(W).
 * Nothing else differs between the two runs.
 */
export function createOptimizer(model: GPT, kind: EmbeddingOptimizer, c: TrainConfig):
  CoupledAdam {
  const spec = (p: Param): ParamSpec => ({
    name: p.name, param: p.data, grad: p.grad,
    ...(kind === 'coupled-adam' && (p.kind === 'embedding' || p.kind === 'output')
      ? { embedding: { rows: p.shape[0], cols: p.shape[1] } } : {}),
  });
  const of = (kinds: string[]) => model.params.filter((p) => kinds.includes(p.kind));
  const groups = [
    { params: of(['matrix']).map(spec), weightDecay: c.weightDecay },
    { params: of(['embedding', 'vector']).map(spec), weightDecay: 0 },
  ];
  if (!c.tiedOutput) {
    groups.push({ params: of(['output']).map(spec), weightDecay: c.outputWeightDecay });
  }
  return new CoupledAdam(groups, {
    lr: lrAt(1, c), beta1: c.beta1, beta2: c.beta2, eps: c.eps, backend: c.backend,
  });
}

/**
 * A training step up to the optimizer: forward, backward, clipping, and the schedule's lr for
 * the coming step set on the optimizer. Returns the loss; the caller steps (sync or async).
 */
export function prepareStep(model: GPT, optimizer: CoupledAdam, batch: Batch,
  c: TrainConfig): number {
  model.zeroGrad();
  const loss = model.forward(batch.tokens, batch.targets, c.batchSize, c.contextLength);
  model.backward();
  clipGradients(model.params, c.gradClip);
  optimizer.lr = lrAt(optimizer.stepCount + 1, c);
  return loss;
}

/** Scales every gradient so that their global L2 norm is at most maxNorm; returns the norm. */
export function clipGradients(params: Param[], maxNorm: number): number {
  let sq = 0;
  for (const p of params) {
    for (let i = 0; i < p.grad.length; i++) sq += p.grad[i] * p.grad[i];
  }
  const norm = Math.sqrt(sq);
  if (norm > maxNorm) {
    const scale = maxNorm / (norm + 1e-6);
    for (const p of params) {
      for (let i = 0; i < p.grad.length; i++) p.grad[i] *= scale;
    }
  }
  return norm;
}
