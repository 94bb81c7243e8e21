// Node timing of the gpujs backend against js (and native when built) on the shapes the
// paper trains: the GPT-2 embedding (coupled, 50304 x 768) and one MLP matrix (AdamW,
// 768 x 3072). Run `npm run build` first; under xvfb-run -a for the headlessgl mode.
// Usage: node bench/gpujs-node.mjs [steps]   (prints one JSON line per backend and shape)
import { CoupledAdam, backends } from '../dist/index.js';

const steps = Number(process.argv[2] ?? 5);
const shapes = [
  { name: 'coupled 50304x768', rows: 50304, cols: 768, embedding: true },
  { name: 'adamw 768x3072', rows: 768, cols: 3072, embedding: false },
];

function timeSteps(backend, shape) {
  const n = shape.rows * shape.cols;
  const param = new Float32Array(n).map((_, i) => Math.sin(i));
  const grad = new Float32Array(n).map((_, i) => Math.cos(i) * 1e-2);
  const spec = { name: 'p', param, grad };
  if (shape.embedding) spec.embedding = { rows: shape.rows, cols: shape.cols };
  const opt = new CoupledAdam([spec], { lr: 1e-3, backend });
  opt.step(); // compile kernels, allocate device state
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) opt.step();
  return (performance.now() - t0) / steps;
}

const available = backends().filter((b) => b.available);
for (const shape of shapes) {
  for (const b of available) {
    const ms = timeSteps(b.name, shape);
    const row = { shape: shape.name, backend: b.name, mode: b.mode, msPerStep: +ms.toFixed(1) };
    console.log(JSON.stringify(row));
  }
}
