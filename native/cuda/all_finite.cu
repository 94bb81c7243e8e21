// Finiteness scan: sets a device flag when any element is NaN or infinite. Reads x once
// (4 bytes per element, 2 for bfloat16) and writes nothing else, so a skipped step can leave
// every tensor untouched (the behaviour of mixed-precision loss scaling, as in PyTorch).
#include "../cpu/cpu_internal.h"
#include "cuda_internal.cuh"

namespace ca_cuda {
namespace {

template <typename G>
__global__ void __launch_bounds__(kThreads)
    all_finite_kernel(const G* __restrict__ x, int64_t n, bool vectors, int* nonFinite) {
  const int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  const int64_t stride = (int64_t)gridDim.x * blockDim.x;
  int bad = 0;
  walk_run(
      0, n, vectors, t, stride, [&](int64_t k) { bad |= !isfinite(Grad<G>::one(x, k)); },
      [&](int64_t k) {
        const float4 v = Grad<G>::four(x, k);
        bad |= !isfinite(v.x) | !isfinite(v.y) | !isfinite(v.z) | !isfinite(v.w);
      });
  // Every writer stores the same 1, so the races between blocks cannot change the result.
  if (__syncthreads_or(bad) && threadIdx.x == 0) *nonFinite = 1;
}

template <typename G>
void launch(const G* x, int64_t n, int* nonFinite, cudaStream_t stream) {
  const bool vectors = aligned(x, Grad<G>::kVectorBytes);
  const int blocks = grid_cap(((vectors ? n / 4 : n) + kThreads - 1) / kThreads, 8192);
  all_finite_kernel<<<blocks, kThreads, 0, stream>>>(x, n, vectors, nonFinite);
}

}  // namespace

cudaError_t launch_all_finite(const void* x, ca_dtype dtype, int64_t n, int* nonFinite,
                              cudaStream_t stream) {
  if (dtype == CA_BFLOAT16) {
    launch(static_cast<const __nv_bfloat16*>(x), n, nonFinite, stream);
  } else {
    launch(static_cast<const float*>(x), n, nonFinite, stream);
  }
  return cudaGetLastError();
}

}  // namespace ca_cuda

extern "C" ca_status ca_all_finite_cuda(const void* x, ca_dtype dtype, int64_t n,
                                        int* nonFinite, struct CUstream_st* stream) {
  if (!x || !nonFinite) return ca::invalid("x and non_finite must not be NULL");
  if (n < 1) return ca::invalid("n must be >= 1, got %lld", (long long)n);
  if (dtype != CA_FLOAT32 && dtype != CA_BFLOAT16) {
    return ca::invalid("dtype must be CA_FLOAT32 or CA_BFLOAT16");
  }
  cudaError_t e = ca_cuda::launch_all_finite(x, dtype, n, nonFinite, stream);
  return e == cudaSuccess ? CA_OK : ca_cuda::fail(e, "the finiteness scan launch");
}
