// Device arrays at the API boundary: recognising them without importing a device backend
// (which needs Node and the addon), checking them with the same wording as host tensors,
// and finding the backend that runs on them.
import { resolveBackend } from './backends/registry.js';
import type {
  BackendChoice,
  DeviceArrayLike,
  DeviceBackend,
  DeviceCoupledTensors,
} from './types.js';
import { describe, type Checker } from './validate.js';

/** CudaArray instances carry this brand. */
export const DEVICE_ARRAY = Symbol.for('coupled-adam.device-array');

export function isDeviceArray(value: unknown): value is DeviceArrayLike {
  return typeof value === 'object' && value !== null && DEVICE_ARRAY in value;
}

/** True when any of a step's four tensors is a device array: the call runs on the device. */
export function hasDeviceArray(tensors: unknown): boolean {
  if (typeof tensors !== 'object' || tensors === null) return false;
  const t = tensors as Record<string, unknown>;
  return [t.param, t.grad, t.expAvg, t.expAvgSq].some(isDeviceArray);
}

/** A live float32 (or, where `bf16` allows, bfloat16) device array of `length` elements. */
export function checkDeviceArray(
  c: Checker,
  argument: string,
  value: unknown,
  length?: number,
  lengthNote?: string,
  bf16 = false,
): DeviceArrayLike {
  if (!isDeviceArray(value)) {
    c.type(argument, 'a device array (CudaArray), as the other tensors of this call', value);
  }
  const fail = (expected: string, received: string): never => {
    throw new RangeError(c.message(argument, expected, received));
  };
  if (value.disposed) fail('a live device array', 'a disposed CudaArray');
  if (value.dtype !== 'float32' && !(bf16 && value.dtype === 'bfloat16')) {
    const allowed = bf16 ? "dtype 'float32' or 'bfloat16'" : "dtype 'float32'";
    fail(`a device array of ${allowed}`, `dtype '${value.dtype}'`);
  }
  if (length !== undefined && value.length !== length) {
    const note = lengthNote ? ` (${lengthNote})` : '';
    fail(`a device array of ${length} elements${note}`, `${value.length} elements`);
  }
  return value;
}

/** The four tensors of a step on the device, with host tensors' checks and wording. */
export function checkDeviceTensors(
  c: Checker,
  tensors: unknown,
  length: number | undefined,
  lengthNote: string,
  sqLength: number | undefined,
  sqNote: string,
): DeviceCoupledTensors {
  const t = c.tensors(tensors);
  const param = checkDeviceArray(c, 'tensors.param', t.param, length, lengthNote);
  const n = length ?? param.length;
  const grad = checkDeviceArray(c, 'tensors.grad', t.grad, n, lengthNote, true);
  const expAvg = checkDeviceArray(c, 'tensors.expAvg', t.expAvg, n, lengthNote);
  const expAvgSq = checkDeviceArray(c, 'tensors.expAvgSq', t.expAvgSq, sqLength ?? n, sqNote);
  const named = [
    ['tensors.param', param], ['tensors.grad', grad],
    ['tensors.expAvg', expAvg], ['tensors.expAvgSq', expAvgSq],
  ] as const;
  for (let a = 0; a < named.length; a++) {
    for (let b = a + 1; b < named.length; b++) {
      if (named[a][1] === named[b][1]) {
        throw new RangeError(
          c.message(named[b][0], `memory separate from ${named[a][0]}`, 'the same device array'));
      }
    }
  }
  return { param, grad, expAvg, expAvgSq };
}

/** The backend for device arrays: 'auto' means 'cuda'; a host-only backend is an error. */
export function resolveDeviceBackend(fn: string, choice: BackendChoice): DeviceBackend {
  const backend = resolveBackend(fn, choice === 'auto' ? 'cuda' : choice);
  if (!backend.device) {
    throw new TypeError(`${fn}: expected backend 'cuda' or 'auto' for device arrays but ` +
      `received ${describe(choice)}`);
  }
  return backend as DeviceBackend;
}
