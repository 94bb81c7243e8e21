// Browser half of bench/gpujs-browser.mjs: ms per optimizer step on js and on gpujs in the
// modes of the URL, for the GPT-2 embedding (coupled) and one MLP matrix (AdamW).
import { CoupledAdam, configureGpuJs, type GpuJsMode, type ParamSpec } from '../src/browser.js';

const shapes = [
  { name: 'coupled 50304x768', rows: 50304, cols: 768, embedding: true },
  { name: 'adamw 768x3072', rows: 768, cols: 3072, embedding: false },
];

type Shape = (typeof shapes)[number];

async function time(backend: 'js' | 'gpujs', async: boolean, s: Shape, steps: number) {
  const n = s.rows * s.cols;
  const spec: ParamSpec = {
    name: 'p', param: new Float32Array(n).map((_, i) => Math.sin(i)),
    grad: new Float32Array(n).map((_, i) => Math.cos(i) * 1e-2),
    ...(s.embedding ? { embedding: { rows: s.rows, cols: s.cols } } : {}),
  };
  const opt = new CoupledAdam([spec], { backend });
  const step = () => (async ? opt.stepAsync() : opt.step());
  await step(); // compile kernels
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await step();
  return (performance.now() - t0) / steps;
}

async function main() {
  const q = new URLSearchParams(location.search);
  const modes = (q.get('modes') ?? 'webgl2,webgpu').split(',') as GpuJsMode[];
  const steps = Number(q.get('steps') ?? 3);
  const rows: object[] = [];
  for (const s of shapes) {
    const js = await time('js', false, s, steps);
    rows.push({ shape: s.name, backend: 'js', msPerStep: +js.toFixed(1) });
    for (const mode of modes) {
      const info = await configureGpuJs({ mode });
      if (!info.available) {
        rows.push({ shape: s.name, backend: 'gpujs', mode, skipped: info.reason });
        continue;
      }
      const ms = await time('gpujs', mode === 'webgpu', s, steps);
      rows.push({ shape: s.name, backend: 'gpujs', mode, msPerStep: +ms.toFixed(1) });
    }
  }
  (window as unknown as { __bench: object[] }).__bench = rows;
}
main().catch((e) => ((window as unknown as { __bench: object }).__bench = [{ error: String(e) }]));
