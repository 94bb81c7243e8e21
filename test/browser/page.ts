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
  return { mode, info, results };
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
