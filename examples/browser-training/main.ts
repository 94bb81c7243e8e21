// The page: two copies of the harness decoder (src/harness), one optimizer each from the
// harness's own recipe, on the gpujs backend in the gpu.js mode of the URL (webgpu through
// CoupledAdam.stepAsync), js where gpujs is unavailable. Progress is drawn and kept on
// window.__training.
import { backends, configureGpuJs, type CoupledAdam, type GpuJsMode } from '../../src/browser.js';
import { embeddingMetrics } from '../../src/metrics/embedding.js';
import { sampleBatch } from '../../src/harness/batches.js';
import {
  DEFAULT_CONFIG, createModel, createOptimizer, prepareStep, type EmbeddingOptimizer,
  type TrainConfig,
} from '../../src/harness/recipe.js';
import { Rng } from '../../src/harness/rng.js';
import { zipfText } from './zipf.js';

const V = 256;
const params = new URLSearchParams(location.search);
const mode = (params.get('mode') ?? 'webgl2') as GpuJsMode;
const steps = Number(params.get('steps') ?? 600);
const every = Number(params.get('every') ?? 20);
// the harness recipe (AdamW, cosine schedule, clipping) on a decoder small enough for a page
const config: TrainConfig = {
  ...DEFAULT_CONFIG,
  steps, batchSize: 8, contextLength: 16, width: 32, layers: 1, heads: 2, topK: V - 1,
  warmupSteps: Math.max(1, Math.round(steps / 10)),
};

interface Point {
  step: number;
  coupled: { loss: number; ratio: number };
  adam: { loss: number; ratio: number };
}
const state = {
  done: false, backend: '', config, history: [] as Point[], error: undefined as string | undefined,
};
(window as unknown as { __training: typeof state }).__training = state;

function draw(history: Point[]) {
  const svg = document.getElementById('chart')!;
  const max = Math.max(0.05, ...history.flatMap((h) => [h.coupled.ratio, h.adam.ratio]));
  const line = (key: 'coupled' | 'adam', color: string) => {
    const pts = history.map((h) =>
      `${(h.step / steps) * 590 + 5},${215 - (h[key].ratio / max) * 205}`);
    return `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"/>`;
  };
  svg.innerHTML = line('coupled', '#0a7') + line('adam', '#c40') +
    `<text x="8" y="14" font-size="11">ratio max ${max.toFixed(3)}</text>`;
  const last = history[history.length - 1];
  const row = document.createElement('tr');
  row.innerHTML = `<td>${last.step}</td><td>${last.coupled.loss.toFixed(3)}</td>` +
    `<td>${last.adam.loss.toFixed(3)}</td>` +
    `<td class="coupled">${last.coupled.ratio.toFixed(4)}</td>` +
    `<td class="adam">${last.adam.ratio.toFixed(4)}</td>`;
  document.getElementById('log')!.appendChild(row);
}

async function main() {
  const status = document.getElementById('status')!;
  const info = await configureGpuJs({ mode });
  config.backend = info.available ? 'gpujs' : 'js';
  state.backend = info.available
    ? `gpujs (${info.mode})`
    : `js (gpujs unavailable: ${info.reason})`;
  status.textContent = `backend: ${state.backend}; ${backends().map((b) => b.name).join(', ')}`;

  const text = zipfText(V, 1 << 16, 7);
  // the same initial weights (config.seed) and the same batches for both runs
  const runs = (['coupled-adam', 'adam'] as EmbeddingOptimizer[]).map((kind) => {
    const model = createModel(V, config);
    return { model, optimizer: createOptimizer(model, kind, config), loss: NaN };
  });
  const ratio = (r: (typeof runs)[number]) =>
    embeddingMetrics(r.model.wte.data, V, config.width, text.unigram).meanNormRatio;
  const step = (o: CoupledAdam) => (mode === 'webgpu' ? o.stepAsync() : o.step());
  const data = new Rng(config.seed ^ 0x5eed);
  for (let s = 1; s <= steps; s++) {
    const batch = sampleBatch(text.tokens, config.batchSize, config.contextLength, data);
    for (const r of runs) {
      r.loss = prepareStep(r.model, r.optimizer, batch, config);
      const result = await step(r.optimizer);
      if (!result.applied) throw new Error(`a non-finite gradient at step ${s}`);
    }
    if (s % every === 0 || s === steps) {
      const [coupled, adam] = runs;
      state.history.push({
        step: s,
        coupled: { loss: coupled.loss, ratio: ratio(coupled) },
        adam: { loss: adam.loss, ratio: ratio(adam) },
      });
      draw(state.history);
      status.textContent = `backend: ${state.backend}; step ${s} of ${steps}`;
      await new Promise((r) => setTimeout(r, 0)); // let the page paint
    }
  }
  state.done = true;
}

main().catch((e) => {
  state.error = String((e as Error).stack ?? e);
  state.done = true;
  document.getElementById('status')!.textContent = state.error;
});
