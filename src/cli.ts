#!/usr/bin/env node
// coupled-adam compare: trains the decoder twice on real text, the token embedding by Adam and
// by Coupled Adam, and reports the paper's embedding metrics side by side (what `npm start` runs).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadCorpus } from './harness/data.js';
import { buildReport, svg, table } from './harness/report.js';
import { compare, DEFAULT_CONFIG, type TrainConfig } from './harness/train.js';
import type { BackendChoice } from './types.js';

function integer(min: number) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(`expected an integer >= ${min} but received ${value}`);
    }
    return n;
  };
}

function nonNegative(value: string): number {
  const n = Number(value);
  if (!(n >= 0) || !Number.isFinite(n)) {
    throw new InvalidArgumentError(`expected a number >= 0 but received ${value}`);
  }
  return n;
}

interface CompareFlags {
  steps: number; batchSize: number; context: number; width: number; layers: number;
  heads: number; topK: number; lr: number; warmup: number; seed: number;
  backend: BackendChoice; evalEvery: number; evalBatches: number; untied: boolean;
  outputWeightDecay: number; text?: string; out: string; progress: boolean; parallel: boolean;
}

async function runCompare(f: CompareFlags): Promise<void> {
  const config: TrainConfig = {
    ...DEFAULT_CONFIG,
    steps: f.steps, batchSize: f.batchSize, contextLength: f.context, width: f.width,
    layers: f.layers, heads: f.heads, topK: f.topK, lr: f.lr, warmupSteps: f.warmup,
    seed: f.seed, backend: f.backend, evalEvery: f.evalEvery, evalBatches: f.evalBatches,
    tiedOutput: !f.untied, outputWeightDecay: f.outputWeightDecay,
  };
  if (config.width % config.heads !== 0) {
    throw new InvalidArgumentError(`expected --width a multiple of --heads (${config.heads}) ` +
      `but received ${config.width}`);
  }

  // data
  const corpus = loadCorpus({ file: f.text, topK: config.topK });
  const i = corpus.info;
  console.log(`${i.name}: ${i.characters} characters, ${i.tokens} GPT-2 tokens ` +
    `(${i.distinctTokens} distinct); top ${i.topK} + unknown cover ` +
    `${(100 * i.coverage.train).toFixed(1)}% of training and ` +
    `${(100 * i.coverage.val).toFixed(1)}% of validation tokens ` +
    `(${i.trainTokens} / ${i.valTokens})`);
  console.log(`model: width ${config.width}, ${config.layers} layers, ${config.heads} heads, ` +
    `context ${config.contextLength}, ${config.tiedOutput ? 'tied' : 'untied'} output; ` +
    `${config.steps} steps of ${config.batchSize} x ${config.contextLength} tokens, ` +
    `peak lr ${config.lr}, seed ${config.seed}`);

  // Ctrl-C: finish the current step, then write what there is; a second one quits at once
  const stop = new AbortController();
  const onSigint = () => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
  };
  process.on('SIGINT', onSigint);

  const bar = new SingleBar({
    format: 'training |{bar}| {value}/{total} steps | {tps} tokens/s | loss adam {adam} ' +
      'coupled {coupled} | eta {eta_formatted}',
    hideCursor: true, noTTYOutput: f.progress, notTTYSchedule: 15_000, etaBuffer: 20,
  });
  if (f.progress) bar.start(config.steps, 0, { tps: '-', adam: '-', coupled: '-' });
  const result = await compare(corpus, config, {
    signal: stop.signal,
    parallel: f.parallel,
    onProgress: (p) => f.progress && bar.update(p.step, {
      tps: Math.round(p.tokensPerSecond),
      adam: p.losses['adam'].toFixed(3),
      coupled: p.losses['coupled-adam'].toFixed(3),
    }),
  });
  if (f.progress) bar.stop();
  process.off('SIGINT', onSigint);

  // report
  const report = buildReport(corpus.info, config, result);
  const name = result.partial ? 'report.partial' : 'report';
  mkdirSync(f.out, { recursive: true });
  writeFileSync(join(f.out, `${name}.json`), JSON.stringify(report, null, 1) + '\n');
  writeFileSync(join(f.out, `${name}.svg`), svg(report));
  console.log('\n' + table(report) + '\n');
  console.log(`${result.steps} of ${config.steps} steps in ${result.seconds.toFixed(1)} s` +
    (result.partial ? ' (stopped early: partial report)' : '') +
    `; wrote ${join(f.out, name)}.json and .svg`);
}

const program = new Command('coupled-adam')
  .description('Coupled Adam: fused optimizer steps and the experiment that shows what they do');

const d = DEFAULT_CONFIG;
program.command('compare')
  .description('train a small GPT-2-style decoder twice, the embedding by Adam and by Coupled ' +
    'Adam, and compare the embedding metrics of the paper')
  .option('--steps <n>', 'optimizer steps per run', integer(1), d.steps)
  .option('--batch-size <n>', 'sequences per step', integer(1), d.batchSize)
  .option('--context <n>', 'tokens per sequence', integer(1), d.contextLength)
  .option('--width <n>', 'model width', integer(1), d.width)
  .option('--layers <n>', 'transformer blocks', integer(1), d.layers)
  .option('--heads <n>', 'attention heads', integer(1), d.heads)
  .option('--top-k <n>', 'vocabulary: the K most frequent tokens plus one unknown', integer(1),
    d.topK)
  .option('--lr <x>', 'peak learning rate', nonNegative, d.lr)
  .option('--warmup <n>', 'warmup steps', integer(0), d.warmupSteps)
  .option('--seed <n>', 'seed of the initial weights and the data order', integer(0), d.seed)
  .addOption(new Option('--backend <name>', 'optimizer backend')
    .choices(['auto', 'js', 'native', 'cuda', 'gpujs']).default(d.backend))
  .option('--eval-every <n>', 'validation loss and metrics every n steps', integer(1),
    d.evalEvery)
  .option('--eval-batches <n>', 'validation batches per evaluation', integer(1), d.evalBatches)
  .option('--untied', 'train a separate output layer instead of tying it to the embedding')
  .option('--output-weight-decay <x>', 'weight decay of the untied output layer', nonNegative,
    d.outputWeightDecay)
  .option('--text <file>', 'train on this UTF-8 text file instead of Moby-Dick')
  .option('--out <dir>', 'where report.json and report.svg go', 'report')
  .option('--no-progress', 'no progress bar')
  .option('--no-parallel', 'train both runs in one thread instead of two worker threads')
  .action((flags: CompareFlags) => runCompare({ ...flags, untied: flags.untied === true }));

program.parseAsync().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
