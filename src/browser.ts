// coupled-adam for browsers: the js and gpujs backends, no native code. Bundled by esbuild
// (npm run build:browser) into dist/browser/coupled-adam.js, one ES module with gpu.js inside.
import * as gpujs from 'gpu.js';
import { jsProvider } from './backends/js-provider.js';
import { registerBackend } from './backends/registry.js';
import {
  BROWSER_MODES,
  configureWith,
  gpujsProvider,
  type GpuJsConfig,
  type GpuJsModule,
} from './backends/gpujs/provider.js';
import type { BackendInfo } from './types.js';

/**
 * Below js (0), as in Node: headless Chromium's WebGL2 and WebGPU run on SwiftShader (the CPU)
 * and measured slower than js there. With a hardware GPU, ask for backend: 'gpujs'.
 */
export const GPUJS_BROWSER_PRIORITY = -10;

const load = () => gpujs as unknown as GpuJsModule;

registerBackend(jsProvider);
registerBackend(gpujsProvider(load, BROWSER_MODES, GPUJS_BROWSER_PRIORITY));

/**
 * Chooses the gpu.js mode of the 'gpujs' backend ('auto': webgl2, webgl, webasm, cpu; or
 * 'webgpu', asynchronous); resolves to its backends() entry.
 */
export function configureGpuJs(config: GpuJsConfig = {}): Promise<BackendInfo> {
  return configureWith(load, BROWSER_MODES, GPUJS_BROWSER_PRIORITY, config);
}

export * from './api.js';
export { createGpuJsBackend } from './backends/gpujs/backend.js';
export type { GpuJsBackend } from './backends/gpujs/backend.js';
