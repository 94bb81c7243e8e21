// The browser side of `npm run test:browser`: the golden cases through the public API of the
// browser build, once per gpu.js mode asked for in the URL (?modes=webgl2,webgpu). webgpu runs
// through the promise forms. Results land on window.__golden for the driver to check.
import {
  backends,
  configureGpuJs,
  coupledAdamStep,
  coupledAdamStepAsync,
  adamStep,
  adamStepAsync,
  type GpuJsMode,
} from '../../src/browser.js';
import { GOLDEN, runGolden, type GoldenResult } from './golden.js';

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
