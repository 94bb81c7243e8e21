// The one place that checks arguments and words the errors users see:
// "<fn>: expected <what> for <argument> but received <what came>".

// The engine's own accessors of a typed array's kind and length: a Proxy, an object whose
// prototype was set to Float32Array.prototype, or a subclass overriding `length` cannot fake
// them, and the backends (the addon above all) go by the real ones.
const TypedArrayPrototype = Object.getPrototypeOf(Int8Array.prototype) as object;
const nameGetter = Object.getOwnPropertyDescriptor(TypedArrayPrototype, Symbol.toStringTag)!.get!;
const lengthGetter = Object.getOwnPropertyDescriptor(TypedArrayPrototype, 'length')!.get!;
const view = (key: 'buffer' | 'byteOffset' | 'byteLength') => {
  const own = (p: object) => Object.getOwnPropertyDescriptor(p, key)!.get!;
  const typed = own(TypedArrayPrototype), data = own(DataView.prototype);
  return (x: ArrayBufferView) => (typedArrayName(x) ? typed : data).call(x);
};
const bufferOf = view('buffer'), byteOffsetOf = view('byteOffset');
const byteLengthOf = view('byteLength');

function typedArrayName(value: unknown): string | undefined {
  return nameGetter.call(value) as string | undefined;
}

function typedArrayLength(value: unknown): number {
  return lengthGetter.call(value) as number;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `Array(${value.length})`;
  const tag = typedArrayName(value);
  if (tag !== undefined) return `${tag}(${typedArrayLength(value)})`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${value.byteLength})`;
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}

export class Checker {
  constructor(readonly fn: string) {}

  type(argument: string, expected: string, received: unknown): never {
    throw new TypeError(this.message(argument, expected, describe(received)));
  }

  range(argument: string, expected: string, received: unknown): never {
    throw new RangeError(this.message(argument, expected, describe(received)));
  }

  message(argument: string, expected: string, received: string): string {
    return `${this.fn}: expected ${expected} for ${argument} but received ${received}`;
  }

  object(argument: string, value: unknown): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.type(argument, 'an object', value);
    }
    return value as Record<string, unknown>;
  }

  /** Rejects keys outside `known`, so that a misspelt option is an error, not a no-op. */
  knownKeys(argument: string, value: Record<string, unknown>, known: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!known.includes(key) && value[key] !== undefined) {
        throw new TypeError(
          `${this.fn}: expected only the keys ${known.join(', ')} in ${argument} ` +
            `but received ${JSON.stringify(key)}`,
        );
      }
    }
  }

  /**
   * The four tensors of a step, host or device, as `tensors` holds them: each read once and
   * all before any check, so that a getter cannot swap or detach a tensor already checked.
   */
  tensors(value: unknown): Record<'param' | 'grad' | 'expAvg' | 'expAvgSq', unknown> {
    const o = this.object('tensors', value);
    this.knownKeys('tensors', o, ['param', 'grad', 'expAvg', 'expAvgSq']);
    return { param: o.param, grad: o.grad, expAvg: o.expAvg, expAvgSq: o.expAvgSq };
  }

  float32(argument: string, value: unknown, length?: number, lengthNote?: string): Float32Array {
    if (typedArrayName(value) !== 'Float32Array') {
      if (value instanceof Float32Array) {
        throw new TypeError(this.message(argument, 'a Float32Array',
          'an object that only inherits from Float32Array (a Proxy?)'));
      }
      this.type(argument, 'a Float32Array', value);
    }
    const real = value as Float32Array;
    if (real.length !== typedArrayLength(real)) {
      throw new TypeError(this.message(argument, 'a Float32Array',
        `a ${real.constructor.name} whose length getter says ${String(real.length)}`));
    }
    if (length !== undefined && typedArrayLength(real) !== length) {
      const note = lengthNote ? ` (${lengthNote})` : '';
      this.range(argument, `a Float32Array of ${length} elements${note}`, value);
    }
    return real;
  }

  positiveInteger(argument: string, value: unknown): number {
    if (typeof value !== 'number') this.type(argument, 'a positive integer', value);
    if (!Number.isSafeInteger(value) || value < 1) {
      this.range(argument, 'a positive integer', value);
    }
    return value;
  }

  /** A finite number in [low, high) or (low, high); `open` excludes low. */
  number(
    argument: string,
    value: unknown,
    low: number,
    high = Infinity,
    openLow = false,
  ): number {
    const bounds =
      high === Infinity
        ? `a finite number ${openLow ? '>' : '>='} ${low}`
        : `a number in ${openLow ? '(' : '['}${low}, ${high})`;
    if (typeof value !== 'number') this.type(argument, bounds, value);
    const aboveLow = openLow ? value > low : value >= low;
    if (!(Number.isFinite(value) && aboveLow && value < high)) {
      this.range(argument, bounds, value);
    }
    return value;
  }

  boolean(argument: string, value: unknown): boolean {
    if (typeof value !== 'boolean') this.type(argument, 'a boolean', value);
    return value;
  }

  /** Rejects two views whose bytes overlap: an in-place step over aliased buffers is wrong. */
  disjoint(named: ReadonlyArray<readonly [string, ArrayBufferView]>): void {
    for (let a = 0; a < named.length; a++) {
      for (let b = a + 1; b < named.length; b++) {
        const [nameA, x] = named[a];
        const [nameB, y] = named[b];
        const [xStart, yStart] = [byteOffsetOf(x), byteOffsetOf(y)];
        const overlap =
          bufferOf(x) === bufferOf(y) &&
          xStart < yStart + byteLengthOf(y) &&
          yStart < xStart + byteLengthOf(x);
        if (overlap) {
          throw new RangeError(
            this.message(nameB, `memory separate from ${nameA}`, 'a view of the same bytes'),
          );
        }
      }
    }
  }
}
