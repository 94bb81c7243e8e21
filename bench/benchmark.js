// Benchmarks of coupledAdamStep and adamStep on every available backend, against peers
// (TensorFlow.js Adam on its CPU and WebAssembly backends) and against two ceilings measured
// in the same run: a native streaming triad (native/bench/triad.cc) and a single-threaded JS
// copy of the same bytes. Runs the compiled package (dist/), as users get it.
//
//   npm run bench                 full: 4096x64, 50304x768, 32000x4096
//   npm run bench -- --quick      4096x64 and 50304x768, fewer repetitions (under a minute)
//   options: --shapes 64x32,130x33  --out DIR  --threads N
//            --readme (a full run rewrites the table in README.md)
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { markdown, ms, updateReadme } from './report.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'dist', 'index.js'))) {
  console.error('bench: dist/ is missing; run `npm run build` (npm ci does it) first');
  process.exit(1);
}
const pkg = await import('../dist/index.js');
const { loadAddon } = await import('../dist/backends/native.js');
const { coupledAdamStep, adamStep, backends, CoupledAdam, nativeThreads } = pkg;

const GPT2 = { rows: 50304, cols: 768 };
const SHAPES_FULL = [{ rows: 4096, cols: 64 }, GPT2, { rows: 32000, cols: 4096 }];
const SHAPES_QUICK = [{ rows: 4096, cols: 64 }, GPT2];

// Repetitions: after the warm-up step, as many as its warm-up time fits in `budgetS`, within
// [1, maxReps]; a case slower than half the budget (tfjs on the large shapes) runs once;
// in quick mode (coldOk) a warm-up step longer than the budget is itself the one sample,
// marked cold, so that tfjs's 10-30 s step on the GPT-2 shape is not paid twice.
const MODES = {
  full: { budgetS: 6, maxReps: 25, warmup: 1, coldOk: false },
  quick: { budgetS: 1.5, maxReps: 8, warmup: 1, coldOk: true },
};

// The hyperparameters every case runs with; weightDecay 0 so that tfjs Adam computes the same
// update as AdamW. checkFinite: on for the coupled step (it is free: pass 1 sees every grad),
// off for adamStep (its check is a separate 4-byte read), so AdamW gets its best case.
const HYPER = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };
const COUPLED_BYTES = 24; // grad read twice, param and expAvg read and written
const ADAM_BYTES = 28; // param, grad, expAvg, expAvgSq read; param, expAvg, expAvgSq written
const TRIAD_BYTES = 12; // STREAM's count: b and c read, a written
const COPY_COPIES = 3; // three Float32Array.set of n floats: 3 * 8 = 24 bytes per element

const SINGLE_THREADED = ['js', 'tfjs-cpu', 'tfjs-wasm'];

// ---- options ----

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    shapes: { type: 'string' },
    out: { type: 'string' },
    threads: { type: 'string' },
    readme: { type: 'boolean', default: false },
  },
});
const mode = opts.quick ? 'quick' : 'full';
const defaultShapes = mode === 'quick' ? SHAPES_QUICK : SHAPES_FULL;
const shapes = opts.shapes ? parseShapes(opts.shapes) : defaultShapes;
const custom = opts.shapes !== undefined;
const outDir = opts.out ?? join(root, 'bench', 'results');
const writeReadme = mode === 'full' && !custom && opts.out === undefined && opts.readme;

function parseShapes(text) {
  return text.split(',').map((s) => {
    const m = /^(\d+)x(\d+)$/.exec(s.trim());
    if (!m || +m[1] < 1 || +m[2] < 1) {
      throw new Error(`bench: expected shapes like 4096x64,50304x768 but received '${s}'`);
    }
    return { rows: +m[1], cols: +m[2] };
  });
}

// ---- statistics ----

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function summarize(seconds) {
  const s = [...seconds].sort((a, b) => a - b);
  return {
    reps: s.length,
    medianS: s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2,
    p10S: quantile(s, 0.1),
    p90S: quantile(s, 0.9),
    minS: s[0],
    maxS: s[s.length - 1],
    seconds,
  };
}

const now = () => Number(process.hrtime.bigint()) / 1e9;

// Times one call of `step`, which may return its own, inner timing in seconds.
async function timeOnce(step) {
  const t = now();
  const inner = await step();
  return typeof inner === 'number' ? inner : now() - t;
}

const message = (err) => (err instanceof Error ? err.message.split('\n')[0] : String(err));

// Measures `cases` together. Each is warmed up and gets its repetitions from its warm-up time
// and the budget; then they take turns, one step each per round, so that a change in the
// machine's load falls on all of them alike: their ratios are what the report is about.
async function measureTogether(cases, { budgetS, maxReps, warmup, coldOk }) {
  const runs = [];
  for (const c of cases) {
    const run = { c, seconds: [], reps: 0, warmup };
    runs.push(run);
    try {
      let warmS = 0;
      for (let i = 0; i < warmup; i++) warmS = await timeOnce(c.step);
      if (coldOk && warmS > budgetS) {
        Object.assign(run, { seconds: [warmS], reps: 1, warmup: 0, cold: true });
      } else {
        run.reps = Math.max(1, Math.min(maxReps, Math.floor(budgetS / Math.max(warmS, 1e-9))));
      }
    } catch (err) {
      run.error = message(err);
    }
  }
  for (let more = true; more;) {
    more = false;
    for (const run of runs) {
      if (run.error || run.seconds.length >= run.reps) continue;
      try {
        run.seconds.push(await timeOnce(run.c.step));
        more = true;
      } catch (err) {
        run.error = message(err);
      }
    }
  }
  return runs;
}

// ---- data ----

// Deterministic values without a per-element Math.random: xorshift32, mapped to [-1, 1).
function fillUniform(x, seed, scale) {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < x.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    x[i] = scale * ((s >>> 0) / 2147483648 - 1);
  }
}

// The buffers of one shape. param and grad are shared by every case; each optimizer has its
// own state (shared by the backends, which compute the same update), and the triad and the
// copy write into a scratch buffer of their own, so interleaved cases never disturb each other.
function allocate({ rows, cols }) {
  const n = rows * cols;
  const b = {
    param: new Float32Array(n), // [rows, cols]
    grad: new Float32Array(n), // [rows, cols]
    coupledExpAvg: new Float32Array(n), // [rows, cols]
    coupledExpAvgSq: new Float32Array(cols), // [cols]
    adamExpAvg: new Float32Array(n), // [rows, cols]
    adamExpAvgSq: new Float32Array(n), // [rows, cols]
    scratch: new Float32Array(n), // [rows, cols]: the triad's and the copy's destination
  };
  fillUniform(b.param, 1, 0.02);
  fillUniform(b.grad, 2, 1e-3);
  // fault every page in now, so that no warm-up step pays for first touch
  for (const x of [b.coupledExpAvg, b.adamExpAvg, b.adamExpAvgSq, b.scratch]) x.fill(0);
  return b;
}

function checkApplied(result, label) {
  if (!result.applied) throw new Error(`bench: ${label} skipped its step (non-finite grad)`);
}

// A strided sample of param must stay finite: a blown-up run would time the wrong thing.
function checkFiniteSample(x, label) {
  const stride = Math.max(1, Math.floor(x.length / 4096));
  for (let i = 0; i < x.length; i += stride) {
    if (!Number.isFinite(x[i])) throw new Error(`bench: ${label} produced non-finite param`);
  }
}

// ---- cases ----

function triadCase(addon, b) {
  return {
    id: 'triad', op: 'triad', backend: 'native', bytesPerElement: TRIAD_BYTES,
    step: () => addon.triad(b.scratch, b.grad, b.param, 0.5, 1)[0],
  };
}

function copyCase(b) {
  const sources = [b.grad, b.param, b.coupledExpAvg];
  return {
    id: 'copy-js', op: 'copy', backend: 'js', bytesPerElement: 8 * COPY_COPIES,
    step: () => {
      for (let k = 0; k < COPY_COPIES; k++) b.scratch.set(sources[k]);
    },
  };
}

function coupledCase(name, b, shape) {
  let step = 0;
  return {
    id: `coupled-${name}`, op: 'coupledAdamStep', backend: name, bytesPerElement: COUPLED_BYTES,
    step: () => {
      step += 1;
      const tensors = {
        param: b.param, grad: b.grad, expAvg: b.coupledExpAvg, expAvgSq: b.coupledExpAvgSq };
      checkApplied(coupledAdamStep(tensors, { ...shape, ...HYPER, step, backend: name }),
        `coupledAdamStep on ${name}`);
    },
  };
}

function adamCase(name, b, checkFinite) {
  let step = 0;
  return {
    id: checkFinite ? `adam-${name}-checked` : `adam-${name}`,
    op: checkFinite ? 'adamStep (checkFinite)' : 'adamStep',
    backend: name,
    bytesPerElement: ADAM_BYTES + (checkFinite ? 4 : 0),
    step: () => {
      step += 1;
      const tensors = {
        param: b.param, grad: b.grad, expAvg: b.adamExpAvg, expAvgSq: b.adamExpAvgSq };
      checkApplied(adamStep(tensors, { ...HYPER, step, backend: name, checkFinite }),
        `adamStep on ${name}`);
    },
  };
}

// tf.train.adam on one tfjs backend. Its state is measured, not assumed: tensor bytes held
// after the first step minus those before it (tidy frees the step's temporaries).
function tfjsCase(tf, tfBackend, b, { rows, cols }) {
  let initial, variable, grad, optimizer, bytesBefore;
  return {
    id: `tfjs-${tfBackend}`, op: 'tf.train.adam', backend: `tfjs-${tfBackend}`,
    bytesPerElement: ADAM_BYTES,
    setup: async () => {
      if (!(await tf.setBackend(tfBackend))) throw new Error(`tfjs backend ${tfBackend} failed`);
      await tf.ready();
      initial = tf.tensor2d(b.param, [rows, cols]);
      variable = tf.variable(initial, true, `wte_${rows}x${cols}`);
      grad = tf.tensor2d(b.grad, [rows, cols]);
      optimizer = tf.train.adam(HYPER.lr, HYPER.beta1, HYPER.beta2, HYPER.eps);
      bytesBefore = tf.memory().numBytes;
    },
    // CPU and WASM kernels run synchronously, so the step has finished when this returns.
    step: () => {
      optimizer.applyGradients({ [variable.name]: grad });
    },
    stateBytes: () => tf.memory().numBytes - bytesBefore,
    teardown: () => {
      optimizer?.dispose();
      variable?.dispose();
      initial?.dispose();
      grad?.dispose();
    },
  };
}

async function loadTfjs() {
  try {
    const tf = await import('@tensorflow/tfjs');
    const backendsTf = ['cpu'];
    let wasmError;
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      backendsTf.push('wasm');
    } catch (err) {
      wasmError = `@tensorflow/tfjs-backend-wasm did not load: ${err.message}`;
    }
    return { tf, backends: backendsTf, wasmError };
  } catch (err) {
    return { error: `@tensorflow/tfjs did not load: ${err.message}` };
  }
}

// ---- one shape ----

async function runShape(shape, ctx) {
  const { rows, cols } = shape;
  const n = rows * cols;
  const label = `${rows}x${cols}`;
  console.log(`\n${label} (${n.toLocaleString('en-US')} elements, ` +
    `${(4 * n / 1e6).toFixed(1)} MB per buffer)`);
  const b = allocate(shape);

  // ours and the ceilings take turns; each tfjs peer runs on its own, holding its tensors
  const ours = [];
  if (ctx.addon) ours.push(triadCase(ctx.addon, b));
  ours.push(copyCase(b));
  for (const name of ctx.available) {
    ours.push(coupledCase(name, b, shape));
    ours.push(adamCase(name, b, false));
    if (name === 'native') ours.push(adamCase(name, b, true));
  }
  console.log(`  measuring ${ours.map((c) => c.id).join(', ')} in turns`);
  const runs = await measureTogether(ours, ctx.mode);
  for (const tfBackend of ctx.tfjs.backends ?? []) {
    const c = tfjsCase(ctx.tfjs.tf, tfBackend, b, shape);
    try {
      await c.setup();
      const [run] = await measureTogether([c], ctx.mode);
      if (!run.error) run.stateBytes = c.stateBytes();
      runs.push(run);
    } catch (err) {
      runs.push({ c, error: message(err) });
    } finally {
      c.teardown();
    }
  }
  checkFiniteSample(b.param, label);

  const results = runs.map((run) => entryOf(run, n));
  if (ctx.tfjs.wasmError) {
    results.push({ id: 'tfjs-wasm', op: 'tf.train.adam', backend: 'tfjs-wasm',
      error: ctx.tfjs.wasmError });
  }
  derive(results);
  return { rows, cols, elements: n, cases: results, memory: stateMemory(shape, ctx, results) };
}

// One case's line of the report, printed as it is made.
function entryOf({ c, error, seconds, warmup, cold, stateBytes }, n) {
  const entry = { id: c.id, op: c.op, backend: c.backend, bytesPerElement: c.bytesPerElement };
  if (error) {
    console.log(`  ${c.id.padEnd(22)} failed: ${error}`);
    return { ...entry, error };
  }
  Object.assign(entry, { warmup, ...(cold ? { cold } : {}), ...summarize(seconds) });
  if (stateBytes !== undefined) entry.stateBytes = stateBytes;
  entry.bytes = c.bytesPerElement * n;
  entry.gbps = entry.bytes / entry.medianS / 1e9;
  console.log(`  ${c.id.padEnd(22)} ${(entry.medianS * 1e3).toFixed(2).padStart(10)} ms` +
    `  [${(entry.minS * 1e3).toFixed(2)}, ${(entry.maxS * 1e3).toFixed(2)}]` +
    `  ${entry.reps} reps${cold ? ' (cold)' : ''}  ${entry.gbps.toFixed(2)} GB/s`);
  return entry;
}

// Ratios within the run: each case against its ceiling, Adam, and the peers.
function derive(results) {
  const ok = (id) => results.find((r) => r.id === id && r.medianS !== undefined);
  const triad = ok('triad');
  const copy = ok('copy-js');
  for (const r of results) {
    if (r.medianS === undefined || r.op === 'triad') continue;
    // Single-threaded JS (our js backend, tfjs) meets the copy; the rest meets the triad.
    const ceiling = SINGLE_THREADED.includes(r.backend) ? copy : triad;
    if (ceiling && r !== ceiling) {
      r.ceiling = ceiling.id;
      r.percentOfCeiling = (100 * r.gbps) / ceiling.gbps;
    }
    if (r.op === 'coupledAdamStep') {
      const adam = ok(`adam-${r.backend}`);
      if (adam) r.timeVsAdam = r.medianS / adam.medianS;
    }
    if (r.op === 'coupledAdamStep' || r.op === 'adamStep') {
      r.speedup = {};
      for (const peer of ['tfjs-cpu', 'tfjs-wasm']) {
        const p = ok(peer);
        if (p) r.speedup[peer] = p.medianS / r.medianS;
      }
      const js = ok(r.op === 'coupledAdamStep' ? 'coupled-js' : 'adam-js');
      if (js && r.backend !== 'js') r.speedup.js = js.medianS / r.medianS;
    }
  }
}

// Optimizer state per optimizer and backend: ours from CoupledAdam.stateBytes (its buffers
// are allocated zero-filled, so untouched pages cost nothing), tfjs's as measured.
function stateMemory({ rows, cols }, ctx, results) {
  const n = rows * cols;
  const param = new Float32Array(n);
  const grad = new Float32Array(n);
  const rowsOut = [];
  for (const backend of ctx.available) {
    const coupled = new CoupledAdam(
      [{ name: 'wte', param, grad, embedding: { rows, cols } }], { backend });
    const adam = new CoupledAdam([{ name: 'wte', param, grad }], { backend });
    rowsOut.push({ optimizer: 'coupled', backend, bytes: coupled.stateBytes,
      formula: '4 * (rows * cols + cols)' });
    rowsOut.push({ optimizer: 'adamw', backend, bytes: adam.stateBytes,
      formula: '8 * rows * cols' });
  }
  for (const r of results) {
    if (r.stateBytes !== undefined) {
      rowsOut.push({ optimizer: 'tf.train.adam', backend: r.backend, bytes: r.stateBytes,
        formula: 'measured: tf.memory().numBytes after the first step minus before' });
    }
  }
  return rowsOut;
}

// ---- targets (the GPT-2 shape) ----

function targets(shapeResults) {
  const gpt2 = shapeResults.find((s) => s.rows === GPT2.rows && s.cols === GPT2.cols);
  if (!gpt2) return { shape: null, note: 'the GPT-2 shape 50304x768 was not run', checks: [] };
  const get = (id) => gpt2.cases.find((c) => c.id === id && c.medianS !== undefined);
  const coupled = get('coupled-native');
  const adam = get('adam-native');
  const tfCpu = get('tfjs-cpu');
  const triad = get('triad');
  const jsCoupled = get('coupled-js');
  const copy = get('copy-js');
  const check = (name, goal, value, met, detail) => ({ name, goal, value, met, detail });
  const checks = [];
  if (coupled && triad) {
    // The coupled step writes only lines it has read; the triad's store to `a` also reads
    // the line first (write-allocate), so its bus traffic is 16 bytes, not the 12 counted.
    const pct = (100 * coupled.gbps) / triad.gbps;
    const bus = (pct * TRIAD_BYTES) / (TRIAD_BYTES + 4);
    checks.push(check('native coupled bandwidth vs triad', '>= 90%', pct, pct >= 90,
      `${pct.toFixed(0)}% (${coupled.gbps.toFixed(1)} of ${triad.gbps.toFixed(1)} GB/s; ` +
        `${bus.toFixed(0)}% if the triad's write-allocate reads are counted)`));
  }
  if (coupled && adam) {
    const r = coupled.medianS / adam.medianS;
    checks.push(check('native coupled time / native AdamW time', '<= 0.9', r, r <= 0.9,
      `${r.toFixed(2)} (${ms(coupled.medianS)} vs ${ms(adam.medianS)} ms)`));
  }
  if (coupled && tfCpu) {
    const r = tfCpu.medianS / coupled.medianS;
    checks.push(check('native coupled speedup over tfjs CPU Adam', '>= 200x', r, r >= 200,
      `${r.toFixed(0)}x (${ms(tfCpu.medianS)} vs ${ms(coupled.medianS)} ms)`));
  }
  if (jsCoupled && copy) {
    const r = jsCoupled.medianS / copy.medianS;
    checks.push(check('js coupled time / single-threaded copy of the same bytes', '<= 3', r,
      r <= 3, `${r.toFixed(2)} (${ms(jsCoupled.medianS)} vs ${ms(copy.medianS)} ms)`));
  }
  return { shape: '50304x768', checks };
}

// ---- report ----

function machine(ctx) {
  const cpus = os.cpus();
  return {
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    addon: ctx.addon ? { features: ctx.addon.features, threads: ctx.threads } : null,
    tfjs: ctx.tfjs.tf ? ctx.tfjs.tf.version.tfjs : null,
    loadAverageStart: os.loadavg().map((x) => +x.toFixed(2)),
  };
}

// ---- main ----

async function main() {
  const { addon } = loadAddon();
  if (opts.threads !== undefined) nativeThreads(Number(opts.threads));
  const info = backends();
  const ctx = {
    mode: MODES[mode],
    addon: addon && typeof addon.triad === 'function' ? addon : undefined,
    threads: addon ? addon.threads() : null,
    available: info.filter((b) => b.available).map((b) => b.name),
    tfjs: await loadTfjs(),
  };
  const report = {
    format: 'coupled-adam-bench', version: 1, mode, customShapes: custom,
    date: new Date().toISOString(), machine: machine(ctx), backends: info,
    hyper: HYPER,
    notes: [
      'Times are per step, through the public API (validation included); median of the ' +
        'repetitions after warm-up; reps are bounded by a time budget, so slow cases (tfjs, ' +
        'js on the large shapes) run few times and their spread means little.',
      'Bytes are counted, not measured: 24 per element for the coupled step, 28 for AdamW ' +
        '(+4 with checkFinite), 12 for the triad (its write-allocate read not counted).',
      'coupledAdamStep runs with checkFinite on (free in its first pass); adamStep with it off.',
      'A case marked cold (quick mode only) is a single first step, taken when one step is ' +
        'longer than the time budget; it includes first-use costs such as allocating state.',
    ],
  };
  if (!ctx.addon) report.notes.push('no native addon with triad(): no triad ceiling this run');
  if (ctx.tfjs.error) report.notes.push(ctx.tfjs.error);
  console.log(`coupled-adam bench, mode ${mode}; backends: ${ctx.available.join(', ')}; ` +
    `native threads: ${ctx.threads ?? 'n/a'}; tfjs: ${ctx.tfjs.backends?.join(', ') ?? 'none'}`);
  for (const b of info.filter((x) => !x.available)) console.log(`  ${b.name} skipped: ${b.reason}`);

  const started = now();
  report.shapes = [];
  for (const shape of shapes) report.shapes.push(await runShape(shape, ctx));
  report.targets = targets(report.shapes);
  report.loadAverageEnd = os.loadavg().map((x) => +x.toFixed(2));
  report.wallSeconds = +(now() - started).toFixed(1);

  const table = markdown(report);
  console.log(`\n${table}\n`);
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, custom ? `${mode}-custom` : mode);
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.md`, `${table}\n`);
  console.log(`wrote ${base}.json and ${base}.md in ${report.wallSeconds} s`);
  if (writeReadme) {
    updateReadme(join(root, 'README.md'), table);
    console.log('updated README.md (## Benchmarks)');
  }
}

await main();
