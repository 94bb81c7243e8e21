// The 'gpujs' backend: Coupled Adam and AdamW through gpu.js kernels (kernels.ts), on pieces
// that gpu.js can address exactly (plan.ts). Per step and element: grad read twice (reduction,
// update), param and expAvg read and written once; host work is O(cols) for the coupled scale.
//
// One step is written once, as a generator that yields every kernel call and readback: the
// synchronous modes (GL, webasm, cpu) resume it at once, the webgpu mode awaits each value.
import type {
  AdamTensors,
  Backend,
  CoupledShape,
  CoupledTensors,
  Hyper,
} from '../../types.js';
import { stepScalars } from '../js.js';
import {
  adamFused,
  adamParam,
  blockSums,
  coupledFused,
  coupledParam,
  firstMoment,
  hiddenOf,
  lineOf,
  newExpAvg,
  newExpAvgSq,
  secondMoment,
} from './kernels.js';
import { pieceLimit, planCoupled, planFlat, treeLevels, type Piece } from './plan.js';

/** gpu.js modes this backend can run in; only webgpu is asynchronous. */
export type GpuJsMode = 'headlessgl' | 'webgl2' | 'webgl' | 'webgpu' | 'webasm' | 'cpu';

/** Values per block of the reduction tree: 262144 rows take three levels of 64-term sums. */
export const BLOCK = 64;

type KernelFn = (...args: never[]) => number;

/** The part of a gpu.js kernel shortcut this backend uses. */
export interface GpuKernelRun {
  (...args: unknown[]): unknown;
  kernel?: { constructor: { name: string } };
  destroy?(removeCanvasReferences?: boolean): void;
}

/** The part of a gpu.js `GPU` instance this backend uses. */
export interface GpuLike {
  Kernel: { name: string; features?: { kernelMap?: boolean; maxTextureSize?: number } | null };
  createKernel(fn: KernelFn, settings: object): GpuKernelRun;
  createKernelMap(subs: Record<string, KernelFn>, fn: KernelFn, settings: object): GpuKernelRun;
  destroy(): unknown;
}

/** The kernel classes of gpu.js by the mode they implement. */
export const KERNEL_MODES: Record<string, GpuJsMode> = {
  HeadlessGLKernel: 'headlessgl',
  WebGL2Kernel: 'webgl2',
  WebGLKernel: 'webgl',
  WebGPUKernel: 'webgpu',
  WebAssemblyKernel: 'webasm',
  CPUKernel: 'cpu',
};

/** GL and WebGPU keep optimizer state in device memory between steps; cpu and webasm have none. */
const DEVICE_MODES: readonly GpuJsMode[] = ['headlessgl', 'webgl2', 'webgl', 'webgpu'];

export interface GpuJsBackendOptions {
  /** Largest piece in elements (default and maximum 2^22); smaller values test the splitting. */
  maxPiece?: number;
}

/** Device copies of one state array, one handle per piece. */
interface Resident {
  signature: string;
  /** The host array holds the device values (false after a step, true after a readback). */
  synced: boolean;
  pieces: { start: number; length: number; handle: unknown }[];
}

type Step = Generator<unknown, boolean, unknown>;

/** A gpu.js-backed Backend with the asynchronous variants that webgpu needs. */
export interface GpuJsBackend extends Backend {
  readonly mode: GpuJsMode;
  /** True when kernel calls return promises: only the *Async methods work then. */
  readonly async: boolean;
  /** Kernel maps (several outputs of one kernel) are available in this mode. */
  readonly fused: boolean;
  coupledStep(
    t: CoupledTensors, shape: CoupledShape, h: Hyper, checkFinite: boolean, resident?: boolean,
  ): boolean;
  adamStep(t: AdamTensors, h: Hyper, checkFinite: boolean, resident?: boolean): boolean;
  coupledStepAsync(
    t: CoupledTensors, shape: CoupledShape, h: Hyper, checkFinite: boolean, resident?: boolean,
  ): Promise<boolean>;
  adamStepAsync(
    t: AdamTensors, h: Hyper, checkFinite: boolean, resident?: boolean,
  ): Promise<boolean>;
  /** Copies device-resident state into these host arrays (before reading them). */
  readState(arrays: Float32Array[]): void;
  /** readState for webgpu, whose readback is a promise. */
  readStateAsync(arrays: Float32Array[]): Promise<void>;
  /** Forgets device copies of these arrays (after the host arrays were overwritten). */
  dropState(arrays: Float32Array[]): void;
  /** The gpu.js mode each kernel actually runs in (gpu.js falls back to cpu on failure). */
  kernelModes(): GpuJsMode[];
  destroy(): void;
}

function isHandle(x: unknown): x is { toArray(): unknown; delete?(): void } {
  return typeof x === 'object' && x !== null && !ArrayBuffer.isView(x) &&
    typeof (x as { toArray?: unknown }).toArray === 'function';
}

function free(x: unknown): void {
  if (isHandle(x)) x.delete?.();
}

/** A host array (cpu, webasm) or the readback of a device handle (maybe a promise: webgpu). */
function read(x: unknown): unknown {
  return isHandle(x) ? x.toArray() : x;
}

function argKey(a: unknown): string {
  if (ArrayBuffer.isView(a)) return `a${(a as Float32Array).length}`;
  if (typeof a === 'number') return 'n';
  const output = (a as { output?: number[] } | null)?.output;
  return `t${output ? output.join('x') : '?'}`;
}

function runSync(mode: GpuJsMode, step: Step): boolean {
  let r = step.next();
  while (!r.done) {
    if (r.value instanceof Promise) {
      throw new Error(`gpujs backend: gpu.js mode '${mode}' is asynchronous; use ` +
        'coupledAdamStepAsync, adamStepAsync, CoupledAdam.stepAsync or stateDictAsync');
    }
    r = step.next(r.value);
  }
  return r.value;
}

async function runAsync(step: Step): Promise<boolean> {
  let r = step.next();
  while (!r.done) r = step.next(await r.value);
  return r.value;
}

function allFinite(x: Float32Array): boolean {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) return false;
  }
  return true;
}

export function createGpuJsBackend(gpu: GpuLike, options: GpuJsBackendOptions = {}) {
  const mode = KERNEL_MODES[gpu.Kernel.name];
  if (!mode) throw new Error(`gpujs backend: unknown gpu.js kernel class ${gpu.Kernel.name}`);
  const features = gpu.Kernel.features ?? {};
  const fused = features.kernelMap === true && mode !== 'webasm';
  const limit = pieceLimit(options.maxPiece ?? Infinity, features.maxTextureSize ?? Infinity);
  const onDevice = DEVICE_MODES.includes(mode);
  const kernels = new Map<string, GpuKernelRun>();
  const resident = new WeakMap<Float32Array, Resident>();

  // One compiled kernel per argument signature: gpu.js sizes textures at the first call.
  function call(name: string, outLength: number, args: unknown[]): unknown {
    const key = `${name}:${outLength}:${args.map(argKey).join(',')}`;
    let run = kernels.get(key);
    if (!run) {
      const settings = {
        output: [outLength],
        pipeline: true,
        immutable: true,
        precision: 'single',
        tactic: 'precision',
        constants: { B: BLOCK },
        functions: [lineOf, hiddenOf],
      };
      run = buildKernel(name, settings);
      kernels.set(key, run);
    }
    return run(...args);
  }

  function buildKernel(name: string, settings: object): GpuKernelRun {
    const fn = (f: unknown) => f as KernelFn;
    switch (name) {
      case 'blockSums': return gpu.createKernel(fn(blockSums), settings);
      case 'coupledFused':
        return gpu.createKernelMap({ expAvg: fn(newExpAvg) }, fn(coupledFused), settings);
      case 'firstMoment': return gpu.createKernel(fn(firstMoment), settings);
      case 'coupledParam': return gpu.createKernel(fn(coupledParam), settings);
      case 'adamFused':
        return gpu.createKernelMap(
          { expAvg: fn(newExpAvg), expAvgSq: fn(newExpAvgSq) }, fn(adamFused), settings);
      case 'secondMoment': return gpu.createKernel(fn(secondMoment), settings);
      case 'adamParam': return gpu.createKernel(fn(adamParam), settings);
      default: throw new Error(`gpujs backend: no kernel ${name}`);
    }
  }

  // --- device-resident state (pipeline mode through the optimizer) ---

  function residentInput(a: Float32Array, sig: string, k: number, p: Piece, use: boolean) {
    // a piece is on the device once its first step ran there; until then the host holds it
    const entry = use ? resident.get(a) : undefined;
    if (entry && entry.signature === sig && entry.pieces[k]) return entry.pieces[k].handle;
    return a.subarray(p.start, p.start + p.length);
  }

  /** Keeps `handle` as piece k of a's device copy, or reads it back into a. */
  function* keepOrRead(
    a: Float32Array, sig: string, k: number, p: Piece, handle: unknown, keep: boolean,
  ): Generator<unknown, void, unknown> {
    if (keep && isHandle(handle)) {
      let entry = resident.get(a);
      if (!entry || entry.signature !== sig) {
        if (entry) for (const q of entry.pieces) free(q.handle);
        entry = { signature: sig, synced: false, pieces: [] };
        resident.set(a, entry);
      }
      entry.synced = false;
      const old = entry.pieces[k]?.handle;
      entry.pieces[k] = { start: p.start, length: p.length, handle };
      if (old !== handle) free(old);
      return;
    }
    const values = (yield read(handle)) as Float32Array;
    a.set(values.subarray(0, p.length), p.start);
    free(handle);
  }

  // --- Coupled Adam ---

  function* vocabularySums(
    t: CoupledTensors, shape: CoupledShape,
  ): Generator<unknown, Float64Array, unknown> {
    const plan = planCoupled(shape, limit);
    const sumSq = new Float64Array(shape.cols);
    for (const p of plan.pieces) {
      // a B-ary float32 tree inside the piece; pieces add up in float64 here. layout 0 sums
      // down the piece's rows (one sum per column), layout 1 along its lines.
      const lines = plan.layout === 0 ? p.width : p.lines;
      let input: unknown = t.grad.subarray(p.start, p.start + p.length);
      let square = 1;
      const levels = treeLevels(plan.layout === 0 ? p.lines : p.width, BLOCK);
      if (levels.length === 1) levels.push(1);
      for (let l = 1; l < levels.length; l++) {
        const out = yield call('blockSums', lines * levels[l],
          [input, lines, levels[l - 1], levels[l], plan.layout, square]);
        if (l > 1) free(input);
        input = out;
        square = 0;
      }
      const sums = (yield read(input)) as Float32Array;
      free(input);
      const at = plan.layout === 0 ? p.offset : p.firstLine;
      for (let j = 0; j < lines; j++) sumSq[at + j] += sums[j];
    }
    return sumSq;
  }

  function* coupled(t: CoupledTensors, shape: CoupledShape, h: Hyper, checkFinite: boolean,
    keep: boolean): Step {
    if (checkFinite && !allFinite(t.grad)) return false;
    const { decay, stepSize, bc2 } = stepScalars(h);
    const { beta1, beta2, eps, avgScale } = h;
    keep = keep && onDevice;

    // pass 1: vocabulary sums of grad^2, then the coupled second moment and scale on the host
    const sumSq = (yield* vocabularySums(t, shape)) as Float64Array;
    const scale = new Float32Array(shape.cols);
    for (let j = 0; j < shape.cols; j++) {
      t.expAvgSq[j] = beta2 * t.expAvgSq[j] + (1 - beta2) * (sumSq[j] / shape.rows);
      const denom = Math.sqrt((avgScale * t.expAvgSq[j]) / bc2) + eps;
      scale[j] = denom === 0 ? 0 : stepSize / denom; // NaN propagates, as in js
    }

    // pass 2: the fused update, piece by piece
    const plan = planCoupled(shape, limit);
    const sig = `c${limit}:${t.param.length}`;
    for (let k = 0; k < plan.pieces.length; k++) {
      const p = plan.pieces[k];
      const end = p.start + p.length;
      const param = t.param.subarray(p.start, end);
      const grad = t.grad.subarray(p.start, end);
      const expAvg = residentInput(t.expAvg, sig, k, p, keep);
      const s = plan.layout === 0
        ? scale.subarray(p.offset, p.offset + p.width)
        : scale.subarray(p.firstLine, p.firstLine + p.lines);
      const n = p.width;
      let paramOut: unknown;
      let expAvgOut: unknown;
      if (fused) {
        const out = (yield call('coupledFused', p.length,
          [param, grad, expAvg, s, beta1, 1 - beta1, decay, n, plan.layout])) as
          { result: unknown; expAvg: unknown };
        paramOut = out.result;
        expAvgOut = out.expAvg;
      } else {
        expAvgOut = yield call('firstMoment', p.length, [grad, expAvg, beta1, 1 - beta1]);
        paramOut = yield call('coupledParam', p.length,
          [param, expAvgOut, s, decay, n, plan.layout]);
      }
      yield* keepOrRead(t.param, sig, k, p, paramOut, false);
      yield* keepOrRead(t.expAvg, sig, k, p, expAvgOut, keep);
    }
    return true;
  }

  // --- AdamW ---

  function* adam(t: AdamTensors, h: Hyper, checkFinite: boolean, keep: boolean): Step {
    if (checkFinite && !allFinite(t.grad)) return false;
    const { decay, stepSize, bc2 } = stepScalars(h);
    const { beta1, beta2, eps } = h;
    const invBc2Sqrt = 1 / Math.sqrt(bc2);
    keep = keep && onDevice;

    const pieces = planFlat(t.param.length, limit);
    const sig = `a${limit}:${t.param.length}`;
    for (let k = 0; k < pieces.length; k++) {
      const p = pieces[k];
      const end = p.start + p.length;
      const param = t.param.subarray(p.start, end);
      const grad = t.grad.subarray(p.start, end);
      const expAvg = residentInput(t.expAvg, sig, k, p, keep);
      const expAvgSq = residentInput(t.expAvgSq, sig, k, p, keep);
      let paramOut: unknown;
      let mOut: unknown;
      let vOut: unknown;
      if (fused) {
        const out = (yield call('adamFused', p.length, [param, grad, expAvg, expAvgSq,
          beta1, 1 - beta1, beta2, 1 - beta2, decay, stepSize, invBc2Sqrt, eps])) as
          { result: unknown; expAvg: unknown; expAvgSq: unknown };
        paramOut = out.result;
        mOut = out.expAvg;
        vOut = out.expAvgSq;
      } else {
        mOut = yield call('firstMoment', p.length, [grad, expAvg, beta1, 1 - beta1]);
        vOut = yield call('secondMoment', p.length, [grad, expAvgSq, beta2, 1 - beta2]);
        paramOut = yield call('adamParam', p.length,
          [param, mOut, vOut, decay, stepSize, invBc2Sqrt, eps]);
      }
      yield* keepOrRead(t.param, sig, k, p, paramOut, false);
      yield* keepOrRead(t.expAvg, sig, k, p, mOut, keep);
      yield* keepOrRead(t.expAvgSq, sig, k, p, vOut, keep);
    }
    return true;
  }

  function* readBack(arrays: Float32Array[]): Step {
    for (const a of arrays) {
      const entry = resident.get(a);
      if (!entry || entry.synced) continue;
      for (const q of entry.pieces) {
        const values = (yield read(q.handle)) as Float32Array;
        a.set(values.subarray(0, q.length), q.start);
      }
      entry.synced = true;
    }
    return true;
  }

  const backend: GpuJsBackend = {
    name: 'gpujs',
    mode,
    async: mode === 'webgpu',
    fused,
    coupledStep: (t, shape, h, checkFinite, keep = false) =>
      runSync(mode, coupled(t, shape, h, checkFinite, keep)),
    adamStep: (t, h, checkFinite, keep = false) => runSync(mode, adam(t, h, checkFinite, keep)),
    coupledStepAsync: (t, shape, h, checkFinite, keep = false) =>
      runAsync(coupled(t, shape, h, checkFinite, keep)),
    adamStepAsync: (t, h, checkFinite, keep = false) =>
      runAsync(adam(t, h, checkFinite, keep)),
    allFinite,
    readState(arrays) {
      runSync(mode, readBack(arrays));
    },
    readStateAsync: async (arrays) => {
      await runAsync(readBack(arrays));
    },
    dropState(arrays) {
      for (const a of arrays) {
        const entry = resident.get(a);
        if (!entry) continue;
        for (const q of entry.pieces) free(q.handle);
        resident.delete(a);
      }
    },
    kernelModes() {
      return [...kernels.values()].map((k) => KERNEL_MODES[k.kernel?.constructor.name ?? ''])
        .filter((m): m is GpuJsMode => m !== undefined);
    },
    destroy() {
      for (const k of kernels.values()) k.destroy?.();
      kernels.clear();
      gpu.destroy();
    },
  };
  return backend;
}
