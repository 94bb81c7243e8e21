// Throughput of the harness (pure TypeScript, compiled to dist/): its matrix product against a
// one-output-at-a-time loop, and one training step of the default npm start model.
// Run: npm run build && node bench/harness.mjs   (CPU time, so other load matters less)
import { writeFileSync, mkdirSync } from 'node:fs';
import { matmulABt } from '../dist/harness/ops.js';
import { GPT } from '../dist/harness/model.js';
import { DEFAULT_CONFIG } from '../dist/harness/train.js';

function cpuMs(f, reps) {
  for (let i = 0; i < 2; i++) f();
  const c0 = process.cpuUsage();
  for (let i = 0; i < reps; i++) f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / reps;
}

// the simple kernel the tiles replaced: one output column at a time, four rows
function oneColumn(out, a, b, N, I, O) {
  for (let n = 0; n < N; n += 4) {
    for (let o = 0; o < O; o++) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let i = 0; i < I; i++) {
        const w = b[o * I + i];
        s0 += a[n * I + i] * w; s1 += a[(n + 1) * I + i] * w;
        s2 += a[(n + 2) * I + i] * w; s3 += a[(n + 3) * I + i] * w;
      }
      out[n * O + o] = s0; out[(n + 1) * O + o] = s1;
      out[(n + 2) * O + o] = s2; out[(n + 3) * O + o] = s3;
    }
  }
}

const c = DEFAULT_CONFIG;
const N = c.batchSize * c.contextLength, I = c.width, O = c.topK + 1;
const a = Float32Array.from({ length: N * I }, Math.random);
const b = Float32Array.from({ length: O * I }, Math.random);
const out = new Float32Array(N * O);
const macs = N * I * O;
const tiled = cpuMs(() => matmulABt(out, a, b, N, I, O, false), 10);
const simple = cpuMs(() => oneColumn(out, a, b, N, I, O), 10);

const model = new GPT({ vocabSize: O, contextLength: c.contextLength, width: c.width,
  layers: c.layers, heads: c.heads }, 1);
const tokens = Int32Array.from({ length: N }, (_, i) => (i * 7919) % O);
const stepMs = cpuMs(() => {
  model.zeroGrad();
  model.forward(tokens, tokens, c.batchSize, c.contextLength);
  model.backward();
}, 5);

const result = {
  node: process.version,
  matmul: { shape: `[${N}, ${I}] x [${O}, ${I}]^T`, tiledGmacPerS: macs / tiled / 1e6,
    oneColumnGmacPerS: macs / simple / 1e6, ratio: simple / tiled },
  trainStep: {
    config: `V=${O} C=${c.width} L=${c.layers} NH=${c.heads} B=${c.batchSize} ` +
      `T=${c.contextLength}`,
    forwardBackwardCpuMs: stepMs,
    tokensPerCpuSecond: (N / stepMs) * 1000,
  },
};
console.log(JSON.stringify(result, null, 1));
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/harness.json', import.meta.url),
  JSON.stringify(result, null, 1) + '\n');
