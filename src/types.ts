// Public types of the step functions and the backends.

export type BackendName = 'js' | 'native' | 'cuda' | 'gpujs';
export type BackendChoice = BackendName | 'auto';

/** Tensors of one Coupled Adam step, all float32 and updated in place. */
export interface CoupledTensors {
  /** [rows, cols] (or [cols, rows] with vocabAxis 1): the embedding matrix. */
  param: Float32Array;
  /** Same shape as param. */
  grad: Float32Array;
  /** Same shape as param: the first moment. */
  expAvg: Float32Array;
  /** [cols]: the coupled second moment, one value per hidden unit. */
  expAvgSq: Float32Array;
}

/** Tensors of one AdamW step, all of param's length. */
export interface AdamTensors {
  param: Float32Array;
  grad: Float32Array;
  expAvg: Float32Array;
  expAvgSq: Float32Array;
}

export interface AdamOptions {
  /** 1-based index of this update (bias corrections use it). */
  step: number;
  /** Learning rate, default 1e-3. */
  lr?: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Added after the square root, default 1e-8. */
  eps?: number;
  /** Decoupled (AdamW) weight decay, default 0. */
  weightDecay?: number;
  /** Default 'auto': the fastest available backend. */
  backend?: BackendChoice;
  /**
   * Default true: when any gradient is NaN or infinite, skip the step, modify nothing and
   * return `{ applied: false }` (the behaviour of mixed-precision loss scaling).
   */
  checkFinite?: boolean;
}

export interface CoupledAdamOptions extends AdamOptions {
  /** Vocabulary size: the number of embedding vectors. */
  rows: number;
  /** Hidden size: the length of one embedding vector. */
  cols: number;
  /** Scale inside the square root of the coupled denominator (paper §6.1), default 1. */
  avgScale?: number;
  /** 0 (default): param is stored [rows, cols]; 1: stored [cols, rows]. */
  vocabAxis?: 0 | 1;
}

export interface StepResult {
  /** False when a non-finite gradient made the step skip; nothing was modified then. */
  applied: boolean;
  /** The backend that ran the step. */
  backend: BackendName;
}

export interface BackendInfo {
  name: BackendName;
  /** Usable now. */
  available: boolean;
  /** Built into this installation (for 'cuda': the kernels were compiled). */
  compiled: boolean;
  /** Why the backend is unavailable, or what it runs on when it is. */
  reason: string;
  /** 'gpujs' only: the gpu.js mode obtained (headlessgl, webgl2, webgl, webgpu, webasm, cpu). */
  mode?: string;
}

/** Hyperparameters after defaults, as every backend receives them. */
export interface Hyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  avgScale: number;
  step: number;
}

/** Shape of a coupled matrix, as every backend receives it. */
export interface CoupledShape {
  rows: number;
  cols: number;
  vocabAxis: 0 | 1;
}

/** What a backend implements. Inputs are validated before any backend sees them. */
export interface Backend {
  readonly name: BackendName;
  /** Returns false, having modified nothing, if checkFinite and a gradient is non-finite. */
  coupledStep(t: CoupledTensors, shape: CoupledShape, h: Hyper, checkFinite: boolean,
    resident?: boolean): boolean;
  adamStep(t: AdamTensors, h: Hyper, checkFinite: boolean, resident?: boolean): boolean;
  allFinite(x: Float32Array): boolean;
  // Optional, for device backends (gpujs). `resident` (passed by the optimizer only) lets the
  // backend keep expAvg/expAvgSq on the device between steps; the host arrays are then stale
  // until readState copies the device values back, and dropState forgets them.
  readState?(arrays: Float32Array[]): void;
  dropState?(arrays: Float32Array[]): void;
  /** Optional: the step as a promise, for backends whose work is asynchronous (webgpu). */
  coupledStepAsync?(t: CoupledTensors, shape: CoupledShape, h: Hyper,
    checkFinite: boolean, resident?: boolean): Promise<boolean>;
  adamStepAsync?(t: AdamTensors, h: Hyper, checkFinite: boolean,
    resident?: boolean): Promise<boolean>;
  /** Optional: readState for a device whose readback is asynchronous. */
  readStateAsync?(arrays: Float32Array[]): Promise<void>;
  /** Present on backends that also run on device memory ('cuda'). */
  readonly device?: DeviceSteps;
}

// ---- device memory (the 'cuda' backend) ----

/** Element type of a device array: float32, or bfloat16 (accepted for gradients only). */
export type DeviceDtype = 'float32' | 'bfloat16';

/**
 * An array in device memory, as CudaArray implements it. The step functions and CoupledAdam
 * take these wherever they take a Float32Array, and then run on the device without copies.
 */
export interface DeviceArrayLike {
  readonly device: 'cuda';
  readonly dtype: DeviceDtype;
  readonly length: number;
  readonly byteLength: number;
  /** True after dispose(); a disposed array is rejected by every call. */
  readonly disposed: boolean;
  /** Copies the whole array back to the host (waits for queued work). */
  toFloat32Array(): Float32Array;
  /** Copies `source` (length elements) into the array. */
  set(source: Float32Array): void;
  /** Sets every element to 0 (queued, no wait). */
  fill(value: 0): void;
  dispose(): void;
}

/** Tensors of a Coupled Adam step in device memory; grad may be bfloat16. */
export interface DeviceCoupledTensors {
  param: DeviceArrayLike;
  grad: DeviceArrayLike;
  expAvg: DeviceArrayLike;
  expAvgSq: DeviceArrayLike;
}

/** Tensors of an AdamW step in device memory; grad may be bfloat16. */
export type DeviceAdamTensors = DeviceCoupledTensors;

/** What a backend with device memory adds: the same steps on device arrays, queued. */
export interface DeviceSteps {
  /** Allocates a zero-filled float32 device array. */
  zeros(length: number): DeviceArrayLike;
  /** Queued unless checkFinite (which waits for the verdict); false: skipped. */
  coupledStep(t: DeviceCoupledTensors, s: CoupledShape, h: Hyper, checkFinite: boolean): boolean;
  adamStep(t: DeviceAdamTensors, h: Hyper, checkFinite: boolean): boolean;
  /** AdamW on many tensors with the same hyperparameters, in few launches; queued. */
  adamMultiStep(list: DeviceAdamTensors[], h: Hyper): void;
  /** Whether every element of every array is finite (waits for the device). */
  allFinite(xs: DeviceArrayLike[]): boolean;
  /** Waits for every queued launch. */
  synchronize(): void;
}

/** A Backend that also runs on device memory (see Backend.device). */
export interface DeviceBackend extends Backend {
  readonly device: DeviceSteps;
}
