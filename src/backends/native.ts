// The 'native' backend: the C++ CPU kernels (native/cpu) through the N-API addon, loaded with
// `bindings` from whichever build exists (cmake-js or node-gyp, both into build/Release).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

import type { Backend, BackendInfo } from '../types.js';
import type { BackendProvider } from './registry.js';

/** The addon's exports (native/addon/addon.cc). */
export interface Addon {
  coupledStep(
    param: Float32Array,
    grad: Float32Array,
    expAvg: Float32Array,
    expAvgSq: Float32Array,
    rows: number,
    cols: number,
    vocabAxis: number,
    hyper: object,
    checkFinite: boolean,
  ): boolean;
  adamStep(
    param: Float32Array,
    grad: Float32Array,
    expAvg: Float32Array,
    expAvgSq: Float32Array,
    hyper: object,
    checkFinite: boolean,
  ): boolean;
  allFinite(x: Float32Array): boolean;
  threads(set?: number): number;
  features: { openmp: boolean; cuda: boolean };
}

// src/backends or dist/backends: the package root is two folders up from either.
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let loaded: { addon?: Addon; error?: string } | undefined;

/** The addon, or why it could not be loaded (one message saying how to fix it). */
export function loadAddon(): { addon?: Addon; error?: string } {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  try {
    const bindings = require('bindings') as (o: object) => Addon;
    loaded = { addon: bindings({ bindings: 'coupled_adam', module_root: packageRoot }) };
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    const missing = /Could not locate the bindings file/.test(message);
    loaded = {
      error: missing
        ? 'the native addon is not built (no build/Release/coupled_adam.node); run ' +
          '`npm run build:addon`, which needs CMake or node-gyp and a C++17 compiler'
        : `the native addon failed to load (${message}); rebuild it with \`npm run build:addon\``,
    };
  }
  return loaded;
}

function nativeBackend(addon: Addon): Backend {
  return {
    name: 'native',
    coupledStep: (t, s, h, checkFinite) =>
      addon.coupledStep(
        t.param, t.grad, t.expAvg, t.expAvgSq, s.rows, s.cols, s.vocabAxis, h, checkFinite),
    adamStep: (t, h, checkFinite) =>
      addon.adamStep(t.param, t.grad, t.expAvg, t.expAvgSq, h, checkFinite),
    allFinite: (x) => addon.allFinite(x),
  };
}

export const nativeProvider: BackendProvider = {
  name: 'native',
  priority: 20,
  probe() {
    const { addon, error } = loadAddon();
    const info: BackendInfo = addon
      ? {
          name: 'native',
          available: true,
          compiled: true,
          reason: `C++ CPU kernels, ${addon.threads()} thread(s)` +
            (addon.features.openmp ? '' : ' (built without OpenMP)'),
        }
      : { name: 'native', available: false, compiled: false, reason: error ?? 'unknown' };
    return { info, backend: addon ? nativeBackend(addon) : undefined };
  },
};

/** Threads the native CPU kernels use; with an argument, sets them first. */
export function nativeThreads(threads?: number): number {
  const { addon, error } = loadAddon();
  if (!addon) throw new Error(`nativeThreads: ${error}`);
  return addon.threads(threads);
}
