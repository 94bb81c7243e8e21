// The browser side of `npm run test:browser`: the golden cases through the public API of the
// browser build, once per gpu.js mode asked for in the URL (?modes=webgl2,webgpu). webgpu runs
// through the promise forms. Results land on window.__golden for the driver to check.
import {
  CoupledAdam,
  backends,
  configureGpuJs,
  coupledAdamStep,
  coupledAdamStepAsync,
  adamStep,
  adamStepAsync,
  type GpuJsMode,
} from '../../src/browser.js';
import { GOLDEN, optimizerPair, relativeError, runGolden, type GoldenResult } from './golden.js';

/**
 * CoupledAdam on gpujs (moments kept on the device, in pieces of 64 elements) against
 * CoupledAdam on js: 5 steps, the state read back, replaced, and one more step.
 */
async function optimizerCase(mode: GpuJsMode): Promise<GoldenResult> {
  await configureGpuJs({ mode, maxPiece: 64 });
  const async = mode === 'webgpu';
  const { js, gpu, fill } = optimizerPair(CoupledAdam, 150, 5);
  const errors = { param: 0, expAvg: 0, expAvgSq: 0 };
  const err = (a: Float32Array, b: Float32Array) => relativeError(a, Float64Array.from(b));
  const step = async () => {
    fill();
    if (async) await gpu.opt.stepAsync();
    else gpu.opt.step();
    js.opt.step();
    errors.param = Math.max(errors.param, err(gpu.emb.param, js.emb.param),
      err(gpu.w.param, js.w.param));
  };
  const compareState = async () => {
    const got = async ? await gpu.opt.stateDictAsync() : gpu.opt.stateDict();
    const want = js.opt.stateDict();
    for (const name of ['wte', 'w']) {
      errors.expAvg = Math.max(errors.expAvg,
        err(got.params[name].expAvg, want.params[name].expAvg));
      errors.expAvgSq = Math.max(errors.expAvgSq,
        err(got.params[name].expAvgSq, want.params[name].expAvgSq));
    }
  };
  for (let s = 0; s < 5; s++) await step();
  await compareState();
  const reset = js.opt.stateDict();
  reset.params.wte.expAvg.fill(0.5);
  gpu.opt.loadStateDict(reset);
  js.opt.loadStateDict(reset);
  await step();
  await compareState();
  await configureGpuJs({ mode });
  return { name: 'CoupledAdam, moments on the device in 64-element pieces', errors, applied: true };
}

interface ModeResult {
  mode: string;
  info: unknown;
  results: GoldenResult[];
  error?: string;
  /** webgpu only: what a synchronous step said (it must refuse, having changed nothing). */
  syncRefusal?: string;
}

async function runMode(mode: GpuJsMode): Promise<ModeResult> {
  const info = await configureGpuJs({ mode });
  const entry = backends().find((b) => b.name === 'gpujs')!;
  if (!entry.available) return { mode, info, results: [], error: entry.reason };
  const results: GoldenResult[] = [];
  // adamStep takes no avgScale: drop it from the shared hyperparameters
  const adamOptions = ({ avgScale: _, ...h }: { avgScale?: number }) =>
    ({ ...h, backend: 'gpujs' });
  const stepper = mode === 'webgpu'
    ? {
        coupled: async (t: never, s: object, h: object) =>
          (await coupledAdamStepAsync(t, { ...s, ...h, backend: 'gpujs' } as never)).applied,
        adam: async (t: never, h: object) =>
          (await adamStepAsync(t, adamOptions(h) as never)).applied,
      }
    : {
        coupled: (t: never, s: object, h: object) =>
          coupledAdamStep(t, { ...s, ...h, backend: 'gpujs' } as never).applied,
        adam: (t: never, h: object) => adamStep(t, adamOptions(h) as never).applied,
      };
  for (const c of GOLDEN) {
    const t0 = performance.now();
    const r = await runGolden(c, stepper as never);
    results.push({ ...r, ms: Math.round(performance.now() - t0) } as GoldenResult);
  }
  const t0 = performance.now();
  const opt = await optimizerCase(mode);
  results.push({ ...opt, ms: Math.round(performance.now() - t0) } as GoldenResult);
  let syncRefusal: string | undefined;
  if (mode === 'webgpu') {
    const t = {
      param: new Float32Array(4).fill(1), grad: new Float32Array(4).fill(1),
      expAvg: new Float32Array(4), expAvgSq: new Float32Array(2),
    };
    try {
      coupledAdamStep(t, { rows: 2, cols: 2, step: 1, backend: 'gpujs' });
      syncRefusal = 'the synchronous step ran';
    } catch (e) {
      const untouched = t.param.every((x) => x === 1) && t.expAvgSq.every((x) => x === 0);
      syncRefusal = untouched ? (e as Error).message : 'refused but modified the tensors';
    }
  }
  return { mode, info, results, syncRefusal };
}

async function main() {
  const modes = (new URLSearchParams(location.search).get('modes') ?? 'webgl2,webgpu')
    .split(',') as GpuJsMode[];
  const out: ModeResult[] = [];
  for (const mode of modes) {
    try {
      out.push(await runMode(mode));
    } catch (e) {
      out.push({ mode, info: null, results: [], error: String((e as Error).stack ?? e) });
    }
  }
  (window as unknown as { __golden: ModeResult[] }).__golden = out;
  document.body.textContent = JSON.stringify(out, null, 1);
}

main();
