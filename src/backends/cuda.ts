// The 'cuda' backend: the CUDA kernels (native/cuda) through the addon's `cuda` object, and
// CudaArray, the device arrays they run on. Launches are queued on one stream and return at
// once; cudaSynchronize() waits. Host Float32Arrays work too, copied to the device and back
// on every call: correct, but slower than the 'native' CPU backend for most sizes.
import { DEVICE_ARRAY } from '../device.js';
import type {
  AdamTensors,
  Backend,
  BackendInfo,
  CoupledShape,
  CoupledTensors,
  DeviceAdamTensors,
  DeviceArrayLike,
  DeviceBackend,
  DeviceCoupledTensors,
  DeviceDtype,
  DeviceSteps,
  Hyper,
} from '../types.js';
import { Checker } from '../validate.js';
import { jsBackend } from './js.js';
import { loadAddon } from './native.js';
import type { BackendProvider } from './registry.js';

/** A device allocation owned by the addon (native/addon/cuda_arrays.cc). */
interface DeviceBuffer {
  readonly bytes: number;
  dispose(): void;
}

/** The addon's `cuda` object; every failure throws an Error whose `code` is the CUDA name. */
export interface CudaAddon {
  probe(): {
    count: number;
    error?: string;
    message?: string;
    name?: string;
    computeCapability?: string;
    memoryBytes?: number;
  };
  alloc(bytes: number): DeviceBuffer;
  upload(buffer: DeviceBuffer, host: ArrayBufferView, byteOffset: number): void;
  download(buffer: DeviceBuffer, host: ArrayBufferView, byteOffset: number): void;
  fill0(buffer: DeviceBuffer): void;
  copy(dst: DeviceBuffer, src: DeviceBuffer): void;
  synchronize(): void;
  coupledStep(
    param: DeviceBuffer, grad: DeviceBuffer, expAvg: DeviceBuffer, expAvgSq: DeviceBuffer,
    rows: number, cols: number, vocabAxis: number, hyper: object, checkFinite: boolean,
    gradDtype: number): boolean;
  adamStep(
    param: DeviceBuffer, grad: DeviceBuffer, expAvg: DeviceBuffer, expAvgSq: DeviceBuffer,
    n: number, hyper: object, checkFinite: boolean, gradDtype: number): boolean;
  adamMultiStep(
    list: Array<[DeviceBuffer, DeviceBuffer, DeviceBuffer, DeviceBuffer, number]>,
    hyper: object, gradDtype: number): void;
  allFinite(list: Array<[DeviceBuffer, number, number]>): boolean;
}

const DTYPE_CODE: Record<DeviceDtype, number> = { float32: 0, bfloat16: 1 };

// ---- the addon, or why there is none ----

let cached: { cuda?: CudaAddon; error?: string } | undefined;

/** The addon's cuda object, or why this build has none. */
function loadCuda(): { cuda?: CudaAddon; error?: string } {
  if (cached) return cached;
  const { addon, error } = loadAddon();
  const cuda = (addon as { cuda?: CudaAddon } | undefined)?.cuda;
  if (!addon) cached = { error };
  else if (!addon.features.cuda || !cuda) {
    cached = {
      error: 'this build has no CUDA kernels: nvcc was not found when the addon was built ' +
        '(CMake said "CUDA kernels OFF"), or node-gyp built it (CPU only); install the CUDA ' +
        'toolkit and run `npm run build:addon`',
    };
  } else cached = { cuda };
  return cached;
}

function requireCuda(fn: string): CudaAddon {
  const { cuda, error } = loadCuda();
  if (!cuda) throw new Error(`${fn}: ${error}`);
  return cuda;
}

// ---- keeping arrays alive while the device uses them ----

// Every array a queued launch reads or writes stays referenced here until a call that waits
// for the stream, so the garbage collector cannot finalize (and free) it mid-kernel.
// (cudaFree also waits for the device; this keeps the rule independent of that detail.)
const inFlight = new Set<CudaArray>();

function track(arrays: DeviceArrayLike[]): void {
  for (const a of arrays) inFlight.add(a as CudaArray);
}

function settled(): void {
  inFlight.clear();
}

/** Waits for every queued CUDA launch; a kernel's failure is thrown here. */
export function cudaSynchronize(): void {
  requireCuda('cudaSynchronize').synchronize();
  settled();
}

// ---- bfloat16 on the host: the upper 16 bits of a float32, rounded to nearest even ----

function toBfloat16(x: Float32Array): Uint16Array {
  const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const b = bits[i];
    const nan = (b & 0x7f800000) === 0x7f800000 && (b & 0x007fffff) !== 0;
    out[i] = nan ? (b >>> 16) | 0x0040 : (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
  }
  return out;
}

function fromBfloat16(x: Uint16Array): Float32Array {
  const bits = new Uint32Array(x.length);
  for (let i = 0; i < x.length; i++) bits[i] = x[i] << 16;
  return new Float32Array(bits.buffer);
}

// ---- CudaArray ----

const ELEMENT_BYTES: Record<DeviceDtype, number> = { float32: 4, bfloat16: 2 };

function checkDtype(c: Checker, value: unknown): DeviceDtype {
  const dtype = value ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'bfloat16') c.range('options.dtype',
    "'float32' or 'bfloat16'", value);
  return dtype;
}

/**
 * An array in CUDA device memory (device 0; choose it with CUDA_VISIBLE_DEVICES). Create one
 * with CudaArray.from or CudaArray.zeros, pass it wherever the step functions or CoupledAdam
 * take a Float32Array, copy it back with toFloat32Array(), and free it with dispose(). A
 * forgotten array is freed when the garbage collector finalizes it, at a time of its choosing:
 * dispose explicitly when device memory matters.
 */
export class CudaArray implements DeviceArrayLike {
  readonly [DEVICE_ARRAY] = true;
  readonly device = 'cuda' as const;
  #buffer: DeviceBuffer | undefined;

  private constructor(
    readonly dtype: DeviceDtype,
    readonly length: number,
    buffer: DeviceBuffer,
  ) {
    this.#buffer = buffer;
  }

  /** A copy of `source` in device memory; bfloat16 rounds each value to nearest even. */
  static from(source: Float32Array, options: { dtype?: DeviceDtype } = {}): CudaArray {
    const c = new Checker('CudaArray.from');
    c.float32('source', source);
    if (source.length === 0) c.range('source', 'a non-empty Float32Array', source);
    const dtype = checkDtype(c, c.object('options', options).dtype);
    const array = CudaArray.zeros(source.length, { dtype });
    array.set(source);
    return array;
  }

  /** A zero-filled array of `length` elements. */
  static zeros(length: number, options: { dtype?: DeviceDtype } = {}): CudaArray {
    const c = new Checker('CudaArray.zeros');
    c.positiveInteger('length', length);
    const dtype = checkDtype(c, c.object('options', options).dtype);
    const cuda = requireCuda('CudaArray.zeros');
    return new CudaArray(dtype, length, cuda.alloc(length * ELEMENT_BYTES[dtype]));
  }

  get byteLength(): number {
    return this.length * ELEMENT_BYTES[this.dtype];
  }

  get disposed(): boolean {
    return this.#buffer === undefined;
  }

  /** The addon's buffer; throws if disposed. */
  buffer(fn: string): DeviceBuffer {
    if (!this.#buffer) throw new RangeError(`${fn}: the CudaArray was disposed`);
    return this.#buffer;
  }

  /** Copies the array to a new Float32Array, after all queued work (it waits). */
  toFloat32Array(): Float32Array {
    const cuda = requireCuda('CudaArray.toFloat32Array');
    const buffer = this.buffer('CudaArray.toFloat32Array');
    const host = this.dtype === 'float32' ? new Float32Array(this.length)
      : new Uint16Array(this.length);
    cuda.download(buffer, host, 0);
    settled();
    return host instanceof Float32Array ? host : fromBfloat16(host);
  }

  /** Copies `source` (exactly `length` values) into the array. */
  set(source: Float32Array): void {
    const c = new Checker('CudaArray.set');
    c.float32('source', source, this.length, "the array's length");
    const cuda = requireCuda('CudaArray.set');
    const buffer = this.buffer('CudaArray.set');
    cuda.upload(buffer, this.dtype === 'float32' ? source : toBfloat16(source), 0);
    settled();
  }

  /** Sets every element to 0; queued on the stream. */
  fill(value: 0): void {
    if (value !== 0) new Checker('CudaArray.fill').range('value', '0', value);
    requireCuda('CudaArray.fill').fill0(this.buffer('CudaArray.fill'));
    track([this]);
  }

  /** Frees the device memory now (after queued work that uses it). Idempotent. */
  dispose(): void {
    const buffer = this.#buffer;
    this.#buffer = undefined;
    inFlight.delete(this);
    buffer?.dispose();
  }
}

function buf(x: DeviceArrayLike, fn: string): DeviceBuffer {
  return (x as CudaArray).buffer(fn);
}

// ---- the steps on device arrays ----

function deviceSteps(cuda: CudaAddon): DeviceSteps {
  return {
    zeros: (length) => CudaArray.zeros(length),

    coupledStep(t: DeviceCoupledTensors, s: CoupledShape, h: Hyper, checkFinite: boolean) {
      const fn = 'coupledAdamStep';
      track([t.param, t.grad, t.expAvg, t.expAvgSq]);
      const applied = cuda.coupledStep(
        buf(t.param, fn), buf(t.grad, fn), buf(t.expAvg, fn), buf(t.expAvgSq, fn),
        s.rows, s.cols, s.vocabAxis, h, checkFinite, DTYPE_CODE[t.grad.dtype]);
      if (checkFinite) settled();
      return applied;
    },

    adamStep(t: DeviceAdamTensors, h: Hyper, checkFinite: boolean) {
      const fn = 'adamStep';
      track([t.param, t.grad, t.expAvg, t.expAvgSq]);
      const applied = cuda.adamStep(
        buf(t.param, fn), buf(t.grad, fn), buf(t.expAvg, fn), buf(t.expAvgSq, fn),
        t.param.length, h, checkFinite, DTYPE_CODE[t.grad.dtype]);
      if (checkFinite) settled();
      return applied;
    },

    adamMultiStep(list: DeviceAdamTensors[], h: Hyper) {
      const fn = 'CoupledAdam.step';
      for (const dtype of ['float32', 'bfloat16'] as const) {
        const same = list.filter((t) => t.grad.dtype === dtype);
        if (same.length === 0) continue;
        for (const t of same) track([t.param, t.grad, t.expAvg, t.expAvgSq]);
        cuda.adamMultiStep(same.map((t) => [
          buf(t.param, fn), buf(t.grad, fn), buf(t.expAvg, fn), buf(t.expAvgSq, fn),
          t.param.length]), h, DTYPE_CODE[dtype]);
      }
    },

    allFinite(xs: DeviceArrayLike[]) {
      if (xs.length === 0) return true;
      const result = cuda.allFinite(
        xs.map((x) => [buf(x, 'allFinite'), x.length, DTYPE_CODE[x.dtype]]));
      settled();
      return result;
    },

    synchronize() {
      cuda.synchronize();
      settled();
    },
  };
}

// ---- host arrays: copied in, stepped, copied out (slow; prefer CudaArray) ----

function onDevice<T>(sources: Float32Array[], run: (arrays: CudaArray[]) => T): T {
  const arrays: CudaArray[] = [];
  try {
    for (const s of sources) arrays.push(CudaArray.from(s));
    return run(arrays);
  } finally {
    for (const a of arrays) a.dispose();
  }
}

function copyBack(arrays: CudaArray[], targets: Float32Array[]): void {
  targets.forEach((t, k) => t.set(arrays[k].toFloat32Array()));
}

function cudaBackend(cuda: CudaAddon): DeviceBackend {
  const device = deviceSteps(cuda);
  const backend: Backend & { device: DeviceSteps } = {
    name: 'cuda',
    device,
    coupledStep(t: CoupledTensors, s: CoupledShape, h: Hyper, checkFinite: boolean) {
      const host = [t.param, t.grad, t.expAvg, t.expAvgSq];
      return onDevice(host, ([param, grad, expAvg, expAvgSq]) => {
        const applied = device.coupledStep({ param, grad, expAvg, expAvgSq }, s, h, checkFinite);
        if (applied) copyBack([param, expAvg, expAvgSq], [t.param, t.expAvg, t.expAvgSq]);
        return applied;
      });
    },
    adamStep(t: AdamTensors, h: Hyper, checkFinite: boolean) {
      const host = [t.param, t.grad, t.expAvg, t.expAvgSq];
      return onDevice(host, ([param, grad, expAvg, expAvgSq]) => {
        const applied = device.adamStep({ param, grad, expAvg, expAvgSq }, h, checkFinite);
        if (applied) copyBack([param, expAvg, expAvgSq], [t.param, t.expAvg, t.expAvgSq]);
        return applied;
      });
    },
    // A host array is scanned where it lies: copying it to the device would cost more.
    allFinite: (x: Float32Array) => jsBackend.allFinite(x),
  };
  return backend;
}

// ---- what backends() reports ----

const HINTS: Record<string, string> = {
  cudaErrorInsufficientDriver:
    'no NVIDIA driver is loaded, or it is older than the CUDA 13.0 runtime this was built with',
  cudaErrorNoDevice: 'the driver sees no CUDA device (check CUDA_VISIBLE_DEVICES)',
};

export const cudaProvider: BackendProvider = {
  name: 'cuda',
  // Below 'native': 'auto' with host arrays stays on the CPU, where no copies are needed.
  // Device arrays choose 'cuda' whatever the priority.
  priority: 10,
  probe() {
    const { cuda, error } = loadCuda();
    if (!cuda) {
      return { info: { name: 'cuda', available: false, compiled: false, reason: error ?? '' } };
    }
    const p = cuda.probe();
    let info: BackendInfo;
    if (p.error) {
      const hint = HINTS[p.error] ? ` (${HINTS[p.error]})` : '';
      info = { name: 'cuda', available: false, compiled: true,
        reason: `${p.message ?? p.error}${hint}` };
    } else if (p.count < 1) {
      info = { name: 'cuda', available: false, compiled: true, reason: 'no CUDA device' };
    } else if (Number.parseFloat(p.computeCapability ?? '0') < 8) {
      info = { name: 'cuda', available: false, compiled: true,
        reason: `${p.name} has compute capability ${p.computeCapability}; the kernels are ` +
          'built for 8.0 and newer' };
    } else {
      const gib = ((p.memoryBytes ?? 0) / 2 ** 30).toFixed(0);
      info = { name: 'cuda', available: true, compiled: true,
        reason: `${p.name} (compute capability ${p.computeCapability}, ${gib} GiB), ` +
          `device 0 of ${p.count}` };
    }
    return { info, backend: info.available ? cudaBackend(cuda) : undefined };
  },
};
