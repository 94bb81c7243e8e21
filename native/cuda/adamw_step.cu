// Fused AdamW on one tensor: reads param, grad, expAvg, expAvgSq and writes param, expAvg,
// expAvgSq, 28 bytes per element (26 with bfloat16 grads), plus a 4-byte read of grad when
// the finiteness check is on. Semantics of torch.optim.AdamW; math in adam_math.h.
#include <algorithm>

#include "../cpu/cpu_internal.h"
#include "cuda_internal.cuh"

namespace ca_cuda {
namespace {

template <typename G>
__global__ void __launch_bounds__(kThreads)
    adamw_kernel(float* __restrict__ param, const G* __restrict__ grad,
                 float* __restrict__ expAvg, float* __restrict__ expAvgSq, int64_t n,
                 bool vectors, const int* __restrict__ skip, ca_step_scalars s) {
  if (skip && *skip) return;
  const int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  const int64_t stride = (int64_t)gridDim.x * blockDim.x;
  adamw_run(param, grad, expAvg, expAvgSq, 0, n, vectors, t, stride, s);
}

template <typename G>
void launch(float* param, const G* grad, float* expAvg, float* expAvgSq, int64_t n,
            const int* skip, const ca_step_scalars& s, cudaStream_t stream) {
  const bool vectors = aligned(param, 16) && aligned(expAvg, 16) && aligned(expAvgSq, 16) &&
                       aligned(grad, Grad<G>::kVectorBytes);
  const int blocks = grid_cap(((vectors ? n / 4 : n) + kThreads - 1) / kThreads, 16384);
  adamw_kernel<<<blocks, kThreads, 0, stream>>>(param, grad, expAvg, expAvgSq, n, vectors,
                                                skip, s);
}

}  // namespace
}  // namespace ca_cuda

extern "C" ca_status ca_adamw_step_cuda(float* param, const void* grad, ca_dtype gradDtype,
                                        float* expAvg, float* expAvgSq, int64_t n,
                                        const ca_hyper* hyper, int checkFinite, int* skipped,
                                        struct CUstream_st* stream) {
  if (!param || !grad || !expAvg || !expAvgSq) return ca::invalid("a tensor pointer is NULL");
  if (n < 1) return ca::invalid("n must be >= 1, got %lld", (long long)n);
  if (gradDtype != CA_FLOAT32 && gradDtype != CA_BFLOAT16) {
    return ca::invalid("grad_dtype must be CA_FLOAT32 or CA_BFLOAT16");
  }
  if (checkFinite && !skipped) return ca::invalid("check_finite needs a device int `skipped`");
  if (ca_status st = ca::check_hyper(hyper, false)) return st;

  const ca_step_scalars s = ca_make_step_scalars(hyper->lr, hyper->beta1, hyper->beta2,
                                                 hyper->eps, hyper->weight_decay, hyper->step);
  if (skipped) {
    cudaError_t e = cudaMemsetAsync(skipped, 0, sizeof(int), stream);
    if (e != cudaSuccess) return ca_cuda::fail(e, "cudaMemsetAsync(skipped)");
  }
  if (checkFinite) {
    cudaError_t e = ca_cuda::launch_all_finite(grad, gradDtype, n, skipped, stream);
    if (e != cudaSuccess) return ca_cuda::fail(e, "the finiteness scan of grad");
  }
  const int* skip = checkFinite ? skipped : nullptr;
  if (gradDtype == CA_BFLOAT16) {
    ca_cuda::launch(param, static_cast<const __nv_bfloat16*>(grad), expAvg, expAvgSq, n, skip,
                    s, stream);
  } else {
    ca_cuda::launch(param, static_cast<const float*>(grad), expAvg, expAvgSq, n, skip, s,
                    stream);
  }
  cudaError_t e = cudaGetLastError();
  return e == cudaSuccess ? CA_OK : ca_cuda::fail(e, "the AdamW kernel launch");
}
