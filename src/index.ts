// coupled-adam for Node: every backend this platform can have, registered in 'auto' order.
import { jsProvider } from './backends/js-provider.js';
import { nativeProvider } from './backends/native.js';
import { cudaProvider } from './backends/cuda.js';
import { registerBackend } from './backends/registry.js';
import { gpujsNodeProvider } from './backends/gpujs/node.js';

registerBackend(jsProvider);
registerBackend(nativeProvider);
registerBackend(gpujsNodeProvider);
registerBackend(cudaProvider);

export * from './api.js';
export { nativeThreads } from './backends/native.js';
export { configureGpuJs } from './backends/gpujs/node.js';
export { CudaArray, cudaSynchronize } from './backends/cuda.js';
