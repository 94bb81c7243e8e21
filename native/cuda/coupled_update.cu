// Coupled Adam, launch 2 of 2: the fused update of param and expAvg with each hidden unit's
// factor from launch 1. Reads param, grad, expAvg and writes param, expAvg: 20 bytes per
// element (18 with bfloat16 grads). Formula: shared/COUPLED_ADAM.md; math in adam_math.h.
#include <algorithm>

#include "cuda_internal.cuh"

namespace ca_cuda {
namespace {

// The matrix as `outer` contiguous runs of `inner` elements. vocabAxis 0: a run is one
// token's row and the factor changes along it; vocabAxis 1: a run is one hidden unit and
// shares one factor. Blocks stride over runs in y and along a run in x.
template <typename G, int kVocabAxis>
__global__ void __launch_bounds__(kThreads)
    coupled_update_kernel(float* __restrict__ param, const G* __restrict__ grad,
                          float* __restrict__ expAvg, const float* __restrict__ scale,
                          const int* __restrict__ skip, int64_t outer, int64_t inner,
                          bool vectors, ca_step_scalars s) {
  if (*skip) return;  // launch 1 found a non-finite gradient
  const int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  const int64_t stride = (int64_t)gridDim.x * blockDim.x;
  for (int64_t o = blockIdx.y; o < outer; o += gridDim.y) {
    const int64_t base = o * inner;
    const float runScale = kVocabAxis == 1 ? __ldg(scale + o) : 0.0f;
    auto factor = [&](int64_t k) { return kVocabAxis == 0 ? __ldg(scale + (k - base)) : runScale; };
    walk_run(
        base, inner, vectors, t, stride,
        [&](int64_t k) {
          float p = param[k], m = expAvg[k];
          ca_coupled_element(&p, &m, Grad<G>::one(grad, k), factor(k), &s);
          param[k] = p;
          expAvg[k] = m;
        },
        [&](int64_t k) {
          float4 p = load4(param, k), m = load4(expAvg, k);
          const float4 g = Grad<G>::four(grad, k);
          ca_coupled_element(&p.x, &m.x, g.x, factor(k + 0), &s);
          ca_coupled_element(&p.y, &m.y, g.y, factor(k + 1), &s);
          ca_coupled_element(&p.z, &m.z, g.z, factor(k + 2), &s);
          ca_coupled_element(&p.w, &m.w, g.w, factor(k + 3), &s);
          store4(param, k, p);
          store4(expAvg, k, m);
        });
  }
}

template <typename G, int kVocabAxis>
void launch(float* param, const G* grad, float* expAvg, const CoupledWorkspace& ws,
            int64_t outer, int64_t inner, bool vectors, const ca_step_scalars& s,
            cudaStream_t stream) {
  // x: enough threads for one run (whole warps, at most kThreads); y: runs, so that about
  // 16k blocks stride over the matrix.
  const int64_t work = vectors ? (inner + 3) / 4 : inner;
  const int threads = (int)std::min<int64_t>(kThreads, (work + 31) / 32 * 32);
  const int gx = grid_cap((work + threads - 1) / threads, 1024);
  const int gy = grid_cap(std::min<int64_t>(outer, std::max<int64_t>(1, 16384 / gx)), 65535);
  coupled_update_kernel<G, kVocabAxis><<<dim3(gx, gy), threads, 0, stream>>>(
      param, grad, expAvg, ws.scale, ws.skip, outer, inner, vectors, s);
}

template <typename G>
void launch_layout(float* param, const G* grad, float* expAvg, int64_t rows, int64_t cols,
                   int vocabAxis, const CoupledWorkspace& ws, bool vectors,
                   const ca_step_scalars& s, cudaStream_t stream) {
  if (vocabAxis == 0) {
    launch<G, 0>(param, grad, expAvg, ws, rows, cols, vectors, s, stream);
  } else {
    launch<G, 1>(param, grad, expAvg, ws, cols, rows, vectors, s, stream);
  }
}

}  // namespace

cudaError_t launch_coupled_update(float* param, const void* grad, ca_dtype dtype,
                                  float* expAvg, int64_t rows, int64_t cols, int vocabAxis,
                                  const CoupledWorkspace& ws, const ca_step_scalars& s,
                                  cudaStream_t stream) {
  const int gradBytes = dtype == CA_BFLOAT16 ? 8 : 16;
  const bool vectors = aligned(param, 16) && aligned(expAvg, 16) && aligned(grad, gradBytes);
  if (dtype == CA_BFLOAT16) {
    launch_layout(param, static_cast<const __nv_bfloat16*>(grad), expAvg, rows, cols,
                  vocabAxis, ws, vectors, s, stream);
  } else {
    launch_layout(param, static_cast<const float*>(grad), expAvg, rows, cols, vocabAxis, ws,
                  vectors, s, stream);
  }
  return cudaGetLastError();
}

}  // namespace ca_cuda
