// Finding a gpu.js mode that works: each candidate is created, runs a small coupled step and
// an AdamW step against the js reference, and is kept only if every kernel ran in the mode it
// asked for (gpu.js silently falls back to its cpu mode when a kernel fails to compile).
import type { BackendInfo, CoupledShape, Hyper } from '../../types.js';
import { jsBackend } from '../js.js';
import { registerBackend, type BackendProvider } from '../registry.js';
import {
  createGpuJsBackend,
  type GpuJsBackend,
  type GpuJsBackendOptions,
  type GpuJsMode,
  type GpuLike,
} from './backend.js';

/** The gpu.js module surface this package needs. */
export interface GpuJsModule {
  GPU: {
    new (settings: { mode: string }): GpuLike;
    isHeadlessGLSupported: boolean;
    isWebGL2Supported: boolean;
    isWebGLSupported: boolean;
    isWebGPUSupported: boolean;
    isWebAssemblySupported: boolean;
    isWebGPUAvailable(): Promise<boolean>;
  };
}

export interface GpuJsConfig extends GpuJsBackendOptions {
  /** A gpu.js mode, or 'auto' (default): the first of the platform's modes that works. */
  mode?: GpuJsMode | 'auto';
}

/** Order of 'auto' for the gpujs backend (webgpu is asynchronous, so it is never automatic). */
export const NODE_MODES: readonly GpuJsMode[] = ['headlessgl', 'webasm', 'cpu'];
export const BROWSER_MODES: readonly GpuJsMode[] = ['webgl2', 'webgl', 'webasm', 'cpu'];

/** Null when gpu.js says `mode` can run here, else why not. */
export function unsupported(gpujs: GpuJsModule, mode: GpuJsMode): string | null {
  const G = gpujs.GPU;
  const flag: Record<GpuJsMode, boolean> = {
    headlessgl: G.isHeadlessGLSupported,
    webgl2: G.isWebGL2Supported,
    webgl: G.isWebGLSupported,
    webgpu: G.isWebGPUSupported,
    webasm: G.isWebAssemblySupported,
    cpu: true,
  };
  if (flag[mode]) return null;
  if (mode === 'headlessgl') {
    return 'headlessgl: no GL context (needs the gl package built, `npm run build:gl`, and a ' +
      'display: xvfb-run -a)';
  }
  return `${mode}: not supported by this platform`;
}

// --- self-test: tiny steps against the js reference ---

const TEST_HYPER: Hyper = {
  lr: 0.01, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, avgScale: 1, step: 2,
};

function testTensors(n: number, sq: number, seed: number) {
  const f = (len: number, k: number) =>
    Float32Array.from({ length: len }, (_, i) => Math.sin(seed + k * 7.1 + i * 1.3));
  return { param: f(n, 1), grad: f(n, 2), expAvg: f(n, 3), expAvgSq: f(sq, 4).map(Math.abs) };
}

function maxRelative(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return Number.isNaN(d) ? Infinity : d / (s || 1);
}

function compare(label: string, got: ReturnType<typeof testTensors>,
  want: ReturnType<typeof testTensors>): void {
  for (const key of ['param', 'expAvg', 'expAvgSq'] as const) {
    const e = maxRelative(got[key], want[key]);
    if (!(e <= 1e-5)) throw new Error(`self-test ${label}: ${key} off by ${e.toExponential(2)}`);
  }
}

function* selfTestCases() {
  for (const shape of [
    { rows: 5, cols: 3, vocabAxis: 0 },
    { rows: 70, cols: 2, vocabAxis: 1 },
  ] as CoupledShape[]) {
    yield { shape, got: testTensors(shape.rows * shape.cols, shape.cols, shape.rows) };
  }
}

function checkModes(backend: GpuJsBackend): void {
  const wrong = backend.kernelModes().filter((m) => m !== backend.mode);
  if (wrong.length > 0) {
    throw new Error(`gpu.js ran kernels in mode ${wrong[0]} instead of ${backend.mode}`);
  }
}

function selfTestSync(backend: GpuJsBackend): void {
  for (const { shape, got } of selfTestCases()) {
    const want = testTensors(shape.rows * shape.cols, shape.cols, shape.rows);
    backend.coupledStep(got, shape, TEST_HYPER, true);
    jsBackend.coupledStep(want, shape, TEST_HYPER, true);
    compare(`coupled ${shape.rows}x${shape.cols}`, got, want);
  }
  const got = testTensors(33, 33, 9);
  const want = testTensors(33, 33, 9);
  backend.adamStep(got, TEST_HYPER, true);
  jsBackend.adamStep(want, TEST_HYPER, true);
  compare('adam', got, want);
  checkModes(backend);
}

async function selfTestAsync(backend: GpuJsBackend): Promise<void> {
  for (const { shape, got } of selfTestCases()) {
    const want = testTensors(shape.rows * shape.cols, shape.cols, shape.rows);
    await backend.coupledStepAsync(got, shape, TEST_HYPER, true);
    jsBackend.coupledStep(want, shape, TEST_HYPER, true);
    compare(`coupled ${shape.rows}x${shape.cols}`, got, want);
  }
  const got = testTensors(33, 33, 9);
  const want = testTensors(33, 33, 9);
  await backend.adamStepAsync(got, TEST_HYPER, true);
  jsBackend.adamStep(want, TEST_HYPER, true);
  compare('adam', got, want);
  checkModes(backend);
}

function describe(backend: GpuJsBackend, tried: string[]): string {
  const how = backend.fused ? 'fused kernel maps' : 'one kernel per output (no kernel maps)';
  const state = ['headlessgl', 'webgl2', 'webgl', 'webgpu'].includes(backend.mode)
    ? ', optimizer state kept on the device' : '';
  const skipped = tried.length ? `; not used: ${tried.join('; ')}` : '';
  return `gpu.js mode ${backend.mode}, ${how}${state}${skipped}`;
}

function unavailable(reason: string): BackendInfo {
  return { name: 'gpujs', available: false, compiled: false, reason };
}

/** Tries `modes` in order; the first that passes its self-test becomes the backend. */
export function probeModes(load: () => GpuJsModule, modes: readonly GpuJsMode[],
  options: GpuJsBackendOptions = {}): { info: BackendInfo; backend?: GpuJsBackend } {
  let gpujs: GpuJsModule;
  try {
    gpujs = load();
  } catch (e) {
    return { info: unavailable(`gpu.js could not be loaded: ${(e as Error).message}`) };
  }
  const tried: string[] = [];
  for (const mode of modes) {
    const why = unsupported(gpujs, mode);
    if (why) {
      tried.push(why);
      continue;
    }
    let backend: GpuJsBackend | undefined;
    try {
      backend = createGpuJsBackend(new gpujs.GPU({ mode }), options);
      if (backend.async) throw new Error('asynchronous: use configureGpuJs({ mode })');
      selfTestSync(backend);
      const info = { ...unavailable(''), available: true, compiled: true, mode };
      return { info: { ...info, reason: describe(backend, tried) }, backend };
    } catch (e) {
      backend?.destroy();
      tried.push(`${mode}: ${(e as Error).message}`);
    }
  }
  return { info: unavailable(`no gpu.js mode works here (${tried.join('; ')})`) };
}

/** The registry entry of the gpujs backend for a platform's list of modes. */
export function gpujsProvider(load: () => GpuJsModule, modes: readonly GpuJsMode[],
  priority: number, options: GpuJsBackendOptions = {}): BackendProvider {
  return { name: 'gpujs', priority, probe: () => probeModes(load, modes, options) };
}

/**
 * Chooses the gpu.js mode of the 'gpujs' backend (and the piece size). Resolves to what
 * backends() will report for it. webgpu is asynchronous: after choosing it, run steps through
 * coupledAdamStepAsync, adamStepAsync or CoupledAdam.stepAsync.
 */
export async function configureWith(load: () => GpuJsModule, platformModes: readonly GpuJsMode[],
  priority: number, config: GpuJsConfig = {}): Promise<BackendInfo> {
  const { mode = 'auto', ...options } = config;
  let result: { info: BackendInfo; backend?: GpuJsBackend };
  if (mode !== 'webgpu') {
    result = probeModes(load, mode === 'auto' ? platformModes : [mode], options);
  } else {
    result = await probeWebGPU(load, options);
  }
  registerBackend({ name: 'gpujs', priority, probe: () => result });
  return { ...result.info };
}

async function probeWebGPU(load: () => GpuJsModule, options: GpuJsBackendOptions) {
  let backend: GpuJsBackend | undefined;
  try {
    const gpujs = load();
    if (!(await gpujs.GPU.isWebGPUAvailable())) {
      return { info: unavailable('webgpu: no adapter answered navigator.gpu.requestAdapter()') };
    }
    backend = createGpuJsBackend(new gpujs.GPU({ mode: 'webgpu' }), options);
    await selfTestAsync(backend);
    const info: BackendInfo = {
      name: 'gpujs', available: true, compiled: true, mode: 'webgpu',
      reason: `${describe(backend, [])}; asynchronous: use the *Async step functions`,
    };
    return { info, backend };
  } catch (e) {
    backend?.destroy();
    return { info: unavailable(`webgpu: ${(e as Error).message}`) };
  }
}
