// The page: two probes, one optimizer each, on the gpujs backend in the gpu.js mode of the URL
// (webgpu through CoupledAdam.stepAsync). Progress is drawn and kept on window.__training.
import { CoupledAdam, backends, configureGpuJs, type GpuJsMode } from '../../src/browser.js';
import { PairSource, Probe, meanNormRatio } from './probe.js';

const V = 512;
const H = 32;
const BATCH = 64;
const params = new URLSearchParams(location.search);
const mode = (params.get('mode') ?? 'webgl2') as GpuJsMode;
const steps = Number(params.get('steps') ?? 600);
const every = Number(params.get('every') ?? 20);

interface Point {
  step: number;
  coupled: { loss: number; ratio: number };
  adam: { loss: number; ratio: number };
}
const state = {
  done: false, backend: '', history: [] as Point[], error: undefined as string | undefined,
};
(window as unknown as { __training: typeof state }).__training = state;

function optimizer(p: Probe, coupled: boolean, backend: 'gpujs' | 'js') {
  return new CoupledAdam([
    {
      params: [{ name: 'wte', param: p.wte, grad: p.dwte,
        ...(coupled ? { embedding: { rows: V, cols: H } } : {}) }],
      weightDecay: 0,
    },
    { params: [{ name: 'w', param: p.w, grad: p.dw }, { name: 'b', param: p.b, grad: p.db }] },
  ], { lr: 3e-3, beta2: 0.95, weightDecay: 0.1, backend });
}

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
  const backend = info.available ? 'gpujs' : 'js';
  state.backend = info.available
    ? `gpujs (${info.mode})`
    : `js (gpujs unavailable: ${info.reason})`;
  status.textContent = `backend: ${state.backend}; ${backends().map((b) => b.name).join(', ')}`;

  const a = new Probe(V, H, 1);
  const b = new Probe(V, H, 1);
  const optA = optimizer(a, true, backend);
  const optB = optimizer(b, false, backend);
  const data = new PairSource(V, 2);
  for (let step = 1; step <= steps; step++) {
    const { x, y } = data.batch(BATCH);
    const lossA = a.forwardBackward(x, y);
    const lossB = b.forwardBackward(x, y);
    if (mode === 'webgpu') {
      await optA.stepAsync();
      await optB.stepAsync();
    }
    else {
      optA.step();
      optB.step();
    }
    if (step % every === 0 || step === steps) {
      state.history.push({
        step,
        coupled: { loss: lossA, ratio: meanNormRatio(a.wte, V, H) },
        adam: { loss: lossB, ratio: meanNormRatio(b.wte, V, H) },
      });
      draw(state.history);
      status.textContent = `backend: ${state.backend}; step ${step} of ${steps}`;
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
