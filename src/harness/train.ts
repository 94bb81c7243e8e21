// Training with the paper's recipe at small scale (its Tables 5 and 6): AdamW for every
// parameter but the token embedding, which gets Adam or Coupled Adam, the only difference
// between the two runs. Every optimizer step goes through the package's CoupledAdam class.
// The Node side: runs, evaluation, worker threads; the recipe itself is in recipe.ts.
import { Worker } from 'node:worker_threads';
import '../index.js'; // registers the js and native backends for CoupledAdam
import type { CoupledAdam } from '../optimizer.js';
import type { BackendName } from '../types.js';
import { embeddingMetrics, type EmbeddingMetrics } from '../metrics/embedding.js';
import { evalBatches, sampleBatch, type Batch, type Corpus } from './data.js';
import type { GPT } from './model.js';
import {
  OPTIMIZERS, createModel, createOptimizer, lrAt, prepareStep, type EmbeddingOptimizer,
  type TrainConfig,
} from './recipe.js';
import { Rng } from './rng.js';

export {
  DEFAULT_CONFIG, OPTIMIZERS, clipGradients, createModel, createOptimizer, lrAt, prepareStep,
} from './recipe.js';
export type { EmbeddingOptimizer, TrainConfig } from './recipe.js';

export interface HistoryPoint extends EmbeddingMetrics {
  step: number;
  tokens: number;
  lr: number;
  /** Mean training loss of the steps since the previous point (NaN at step 0). */
  trainLoss: number;
  valLoss: number;
  /** Metrics of the untied output layer. */
  output?: EmbeddingMetrics;
}

export interface RunTiming {
  /** Mean milliseconds of one CoupledAdam.step() over every parameter. */
  optimizerStepMs: number;
  /** Mean milliseconds of a whole training step: forward, backward, clipping, optimizer. */
  trainStepMs: number;
  backend: BackendName;
}

/** One model with its optimizer: the unit the comparison runs twice. */
export class Run {
  readonly model: GPT;
  readonly optimizer: CoupledAdam;
  readonly history: HistoryPoint[] = [];
  private lossSum = 0;
  private lossSteps = 0;
  private optimizerMs = 0;
  private stepMs = 0;
  private steps = 0;

  constructor(readonly kind: EmbeddingOptimizer, readonly config: TrainConfig,
    readonly corpus: Corpus) {
    this.model = createModel(corpus.info.vocabSize, config);
    this.optimizer = createOptimizer(this.model, kind, config);
  }

  /** Forward, backward, clipping, then one optimizer step at the schedule's lr. */
  trainStep(batch: Batch): number {
    const t0 = performance.now();
    const loss = prepareStep(this.model, this.optimizer, batch, this.config);
    const t1 = performance.now();
    const result = this.optimizer.step();
    const t2 = performance.now();
    if (!result.applied) {
      throw new Error(`${this.kind}: a non-finite gradient at step ${result.step + 1}`);
    }

    this.optimizerMs += t2 - t1;
    this.stepMs += t2 - t0;
    this.steps++;
    this.lossSum += loss;
    this.lossSteps++;
    return loss;
  }

  /** Validation loss and embedding metrics now, appended to the history. */
  evaluate(batches: Batch[]): HistoryPoint {
    const { batchSize: B, contextLength: T } = this.config;
    const { vocabSize: V } = this.corpus.info;
    const C = this.config.width;
    let valLoss = 0;
    for (const b of batches) {
      valLoss += this.model.forward(b.tokens, b.targets, B, T) / batches.length;
    }
    const step = this.optimizer.stepCount;
    const point: HistoryPoint = {
      step,
      tokens: step * B * T,
      lr: step === 0 ? 0 : lrAt(step, this.config),
      trainLoss: this.lossSteps > 0 ? this.lossSum / this.lossSteps : NaN,
      valLoss,
      ...embeddingMetrics(this.model.wte.data, V, C, this.corpus.unigram),
      ...(this.config.tiedOutput ? {} : {
        output: embeddingMetrics(this.model.output.data, V, C, this.corpus.unigram),
      }),
    };
    this.lossSum = 0;
    this.lossSteps = 0;
    this.history.push(point);
    return point;
  }

  get timing(): RunTiming {
    return {
      optimizerStepMs: this.steps ? this.optimizerMs / this.steps : NaN,
      trainStepMs: this.steps ? this.stepMs / this.steps : NaN,
      backend: this.optimizer.backendName,
    };
  }
}

export interface Progress {
  /** Steps completed by both runs. */
  step: number;
  steps: number;
  /** Training tokens of both runs together per second of wall time. */
  tokensPerSecond: number;
  /** The latest training loss of each run. */
  losses: Record<EmbeddingOptimizer, number>;
}

export interface CompareOptions {
  /**
   * Train the two runs at once in two worker threads (needs the compiled package: dist/).
   * Default false: both in this thread, interleaved step by step.
   */
  parallel?: boolean;
  onProgress?: (p: Progress) => void;
  /** Checked between steps: once aborted, the comparison stops and returns what it has. */
  signal?: AbortSignal;
}

export interface RunResult {
  kind: EmbeddingOptimizer;
  history: HistoryPoint[];
  timing: RunTiming;
  steps: number;
}

export interface Comparison {
  runs: RunResult[];
  /** Steps completed by both runs. */
  steps: number;
  partial: boolean;
  seconds: number;
}

export interface RunHooks {
  signal?: AbortSignal;
  onStep?: (step: number, loss: number) => void;
}

/**
 * The training loop of one run. Its batches come from a stream seeded by config.seed alone,
 * so both runs see the same batches in the same order wherever they run. It yields to the
 * event loop after every step so that a stop request is seen.
 */
export async function trainRun(run: Run, hooks: RunHooks = {}): Promise<RunResult> {
  const c = run.config;
  const valBatches = evalBatches(run.corpus.val, c.batchSize, c.contextLength, c.evalBatches);
  const data = new Rng(c.seed ^ 0x5eed);

  run.evaluate(valBatches);
  let step = 0;
  while (step < c.steps && !hooks.signal?.aborted) {
    const loss = run.trainStep(sampleBatch(run.corpus.train, c.batchSize, c.contextLength, data));
    step++;
    if (step % c.evalEvery === 0 || step === c.steps) run.evaluate(valBatches);
    hooks.onStep?.(step, loss);
    await new Promise((resolve) => setImmediate(resolve));
  }

  // a stopped run still ends with a point at its last completed step
  if (step > 0 && run.history[run.history.length - 1].step !== step) run.evaluate(valBatches);
  return { kind: run.kind, history: run.history, timing: run.timing, steps: step };
}

/** Trains the Adam and the Coupled Adam run from the same initial weights on the same batches. */
export async function compare(
  corpus: Corpus, config: TrainConfig, options: CompareOptions = {},
): Promise<Comparison> {
  const started = performance.now();
  const steps = { 'adam': 0, 'coupled-adam': 0 };
  const losses = { 'adam': NaN, 'coupled-adam': NaN };
  const onStep = (kind: EmbeddingOptimizer, step: number, loss: number) => {
    steps[kind] = step;
    losses[kind] = loss;
    const seconds = (performance.now() - started) / 1000;
    options.onProgress?.({
      step: Math.min(...Object.values(steps)), steps: config.steps, losses: { ...losses },
      tokensPerSecond: (steps['adam'] + steps['coupled-adam']) * config.batchSize *
        config.contextLength / seconds,
    });
  };

  const runs = await Promise.all(OPTIMIZERS.map((kind) => options.parallel
    ? inWorker(kind, corpus, config, options.signal, (s, l) => onStep(kind, s, l))
    : trainRun(new Run(kind, config, corpus), {
      signal: options.signal, onStep: (s, l) => onStep(kind, s, l),
    })));
  const done = Math.min(...runs.map((r) => r.steps));
  return {
    runs, steps: done, partial: done < config.steps,
    seconds: (performance.now() - started) / 1000,
  };
}

export interface WorkerInput {
  kind: EmbeddingOptimizer;
  corpus: Corpus;
  config: TrainConfig;
}

export type WorkerMessage =
  | { type: 'step'; step: number; loss: number }
  | { type: 'done'; result: RunResult };

function inWorker(
  kind: EmbeddingOptimizer, corpus: Corpus, config: TrainConfig,
  signal: AbortSignal | undefined, onStep: (step: number, loss: number) => void,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const workerData: WorkerInput = { kind, corpus, config };
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData });
    const stop = () => worker.postMessage('stop');
    signal?.addEventListener('abort', stop, { once: true });
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'step') onStep(m.step, m.loss);
      else {
        signal?.removeEventListener('abort', stop);
        resolve(m.result);
        void worker.terminate();
      }
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`${kind}: the training worker exited (${code})`)));
  });
}
