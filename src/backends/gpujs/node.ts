// The gpujs backend in Node: gpu.js loaded on first use, so that importing coupled-adam never
// pays for it. headless-gl (the optional `gl` package) needs a display: run under xvfb-run.
import { createRequire } from 'node:module';
import type { BackendInfo } from '../../types.js';
import type { GpuJsMode } from './backend.js';
import {
  NODE_MODES,
  configureWith,
  gpujsProvider,
  type GpuJsConfig,
  type GpuJsModule,
} from './provider.js';

/**
 * Below js (0): on a machine without a GPU, headless-gl renders with Mesa's llvmpipe, and the
 * measured step is slower than the js backend's (README, "gpu.js backend and the browser").
 */
export const GPUJS_NODE_PRIORITY = -10;

const require = createRequire(import.meta.url);
const load = () => require('gpu.js') as GpuJsModule;

/** COUPLED_ADAM_GPUJS_MODE=webasm (say) pins the mode that 'auto' tries first and only. */
function modes(): readonly GpuJsMode[] {
  const pinned = process.env.COUPLED_ADAM_GPUJS_MODE as GpuJsMode | undefined;
  return pinned ? [pinned] : NODE_MODES;
}

export const gpujsNodeProvider = gpujsProvider(load, modes(), GPUJS_NODE_PRIORITY);

/** Chooses the gpu.js mode of the 'gpujs' backend; resolves to its backends() entry. */
export function configureGpuJs(config: GpuJsConfig = {}): Promise<BackendInfo> {
  return configureWith(load, NODE_MODES, GPUJS_NODE_PRIORITY, config);
}

/** gpu.js itself, as this package loads it (tests build backends per mode from it). */
export const loadGpuJs = load;
