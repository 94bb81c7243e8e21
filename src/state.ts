// Optimizer state: the versioned format of CoupledAdam.stateDict(), its JSON form, and the
// conversion of a full per-element second moment (the paper's PyTorch code keeps one) into
// the coupled one. Since the moving average is linear, vbar_j = mean_i v_ij exactly.
import type { CoupledShape } from './types.js';
import { Checker } from './validate.js';

export const STATE_FORMAT = 'coupled-adam.optimizer';
export const STATE_VERSION = 1;

export interface ParamState {
  kind: 'coupled' | 'adamw';
  /** Element count of the parameter. */
  length: number;
  /** Coupled parameters only: the matrix's shape. */
  rows?: number;
  cols?: number;
  vocabAxis?: 0 | 1;
  expAvg: Float32Array;
  /** [cols] for coupled parameters, [length] for AdamW ones. */
  expAvgSq: Float32Array;
}

export interface OptimizerState {
  format: typeof STATE_FORMAT;
  version: typeof STATE_VERSION;
  /** Steps applied so far. */
  step: number;
  /** Steps skipped for non-finite gradients. */
  skippedSteps: number;
  hyper: { beta1: number; beta2: number; eps: number; avgScale: number };
  groups: Array<{ lr: number; weightDecay: number; params: string[] }>;
  params: Record<string, ParamState>;
}

/**
 * The coupled second moment [cols] from a full per-element one (rows * cols elements, in
 * the parameter's own layout): the vocabulary mean of each hidden unit, summed in double.
 */
export function coupledSecondMomentFromFull(
  fullExpAvgSq: Float32Array,
  shape: { rows: number; cols: number; vocabAxis?: 0 | 1 },
): Float32Array {
  const c = new Checker('coupledSecondMomentFromFull');
  const rows = c.positiveInteger('shape.rows', shape?.rows);
  const cols = c.positiveInteger('shape.cols', shape?.cols);
  const vocabAxis = shape.vocabAxis ?? 0;
  if (vocabAxis !== 0 && vocabAxis !== 1) c.range('shape.vocabAxis', '0 or 1', vocabAxis);
  c.float32('fullExpAvgSq', fullExpAvgSq, rows * cols, 'rows * cols');
  return meanOverVocabulary(fullExpAvgSq, { rows, cols, vocabAxis });
}

export function meanOverVocabulary(x: Float32Array, shape: CoupledShape): Float32Array {
  const { rows, cols, vocabAxis } = shape;
  const sum = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) sum[j] += x[vocabAxis === 0 ? i * cols + j : j * rows + i];
  }
  return Float32Array.from(sum, (s) => s / rows);
}

function toBase64(x: Float32Array): string {
  const bytes = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  if (typeof Buffer !== 'undefined') return Buffer.from(bytes).toString('base64');
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

// Standard base64 with its padding, as toBase64 writes it. Node's decoder would skip any
// other character silently, so a corrupted tensor decoded to different, shorter bytes.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function fromBase64(c: Checker, key: string, text: string): Float32Array {
  const at = `the tensor at ${JSON.stringify(key)}`;
  if (!BASE64.test(text)) {
    c.range(at, 'base64 text', text.length > 40 ? `${text.slice(0, 40)}...` : text);
  }
  const bytes =
    typeof Buffer !== 'undefined'
      ? Uint8Array.from(Buffer.from(text, 'base64'))
      : Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
  if (bytes.length % 4 !== 0) {
    throw new RangeError(c.message(at, 'a multiple of 4 bytes (whole float32 values)',
      `${bytes.length} bytes`));
  }
  return new Float32Array(bytes.buffer, 0, bytes.length / 4);
}

// Little-endian float32 bytes in base64: exact, and a quarter of the size of decimal text.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The state as JSON text; stateFromJSON(stateToJSON(s)) equals s bit for bit. */
export function stateToJSON(state: OptimizerState): string {
  if (!LITTLE_ENDIAN) throw new Error('stateToJSON: big-endian hosts are not supported');
  return JSON.stringify(state, (_key, value) =>
    value instanceof Float32Array ? { float32: toBase64(value) } : value,
  );
}

export function stateFromJSON(text: string): OptimizerState {
  if (!LITTLE_ENDIAN) throw new Error('stateFromJSON: big-endian hosts are not supported');
  const c = new Checker('stateFromJSON');
  if (typeof text !== 'string') c.type('text', 'a string (from stateToJSON)', text);
  return JSON.parse(text, (key, value) =>
    value && typeof value === 'object' && typeof value.float32 === 'string'
      ? fromBase64(c, key, value.float32)
      : value,
  ) as OptimizerState;
}
