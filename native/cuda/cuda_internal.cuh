// Device helpers shared by the CUDA kernels: gradient loads for float32 and bfloat16, the
// walk over one contiguous run with 16-byte vectors and a scalar head and tail, and the
// launchers that native/cuda/*.cu export to the C entry points.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <stdint.h>

#include "../../include/coupled_adam.h"
#include "../common/adam_math.h"

namespace ca_cuda {

constexpr int kThreads = 256;

// Gradients are read once per kernel: loads bypass L1 allocation (ld.global.nc) and come in
// groups of four elements, 16 bytes for float32 and 8 for bfloat16.
template <typename G>
struct Grad;

template <>
struct Grad<float> {
  static constexpr int kVectorBytes = 16;
  static __device__ __forceinline__ float one(const float* g, int64_t i) { return __ldg(g + i); }
  static __device__ __forceinline__ float4 four(const float* g, int64_t i) {
    return __ldg(reinterpret_cast<const float4*>(g + i));
  }
};

template <>
struct Grad<__nv_bfloat16> {
  static constexpr int kVectorBytes = 8;
  static __device__ __forceinline__ float one(const __nv_bfloat16* g, int64_t i) {
    return __bfloat162float(g[i]);
  }
  // A bfloat16 is the upper half of a float32: widening is a shift, exact. Element i sits in
  // the low half of a little-endian word.
  static __device__ __forceinline__ float4 four(const __nv_bfloat16* g, int64_t i) {
    const uint2 bits = __ldg(reinterpret_cast<const uint2*>(g + i));
    return make_float4(__uint_as_float(bits.x << 16), __uint_as_float(bits.x & 0xffff0000u),
                       __uint_as_float(bits.y << 16), __uint_as_float(bits.y & 0xffff0000u));
  }
};

__device__ __forceinline__ float4 load4(const float* p, int64_t i) {
  return *reinterpret_cast<const float4*>(p + i);
}
__device__ __forceinline__ void store4(float* p, int64_t i, float4 v) {
  *reinterpret_cast<float4*>(p + i) = v;
}
__device__ __forceinline__ float at(const float4& v, int q) {
  return q == 0 ? v.x : q == 1 ? v.y : q == 2 ? v.z : v.w;
}

// Splits the run [begin, begin + len) of a buffer whose element 0 is 16-byte aligned into a
// scalar head up to the next multiple of 4, whole vectors of 4, and a scalar tail. With
// vectors off (misaligned buffers) the whole run is head. `t` and `stride` spread the work
// over threads; onScalar(k) and onVector(k) get absolute element indices. Host-callable so
// that test/c/cuda_host_test.cu can check the split without a GPU.
template <typename Scalar, typename Vector>
__host__ __device__ __forceinline__ void walk_run(int64_t begin, int64_t len, bool vectors,
                                                  int64_t t, int64_t stride, Scalar onScalar,
                                                  Vector onVector) {
  const int64_t head = vectors ? (int64_t)((4 - (begin & 3)) & 3) : len;
  const int64_t headLen = head < len ? head : len;
  const int64_t vecs = (len - headLen) / 4;
  const int64_t tailBegin = begin + headLen + vecs * 4;
  const int64_t tailLen = begin + len - tailBegin;
  for (int64_t k = t; k < headLen; k += stride) onScalar(begin + k);
  for (int64_t v = t; v < vecs; v += stride) onVector(begin + headLen + 4 * v);
  for (int64_t k = t; k < tailLen; k += stride) onScalar(tailBegin + k);
}

// AdamW over the run [begin, begin + len) of one tensor, shared by the single- and the
// multi-tensor kernel: 16-byte accesses where `vectors`, scalar ones otherwise.
template <typename G>
__device__ __forceinline__ void adamw_run(float* __restrict__ param, const G* __restrict__ grad,
                                          float* __restrict__ expAvg,
                                          float* __restrict__ expAvgSq, int64_t begin,
                                          int64_t len, bool vectors, int64_t t, int64_t stride,
                                          const ca_step_scalars& s) {
  walk_run(
      begin, len, vectors, t, stride,
      [&](int64_t k) {
        float p = param[k], m = expAvg[k], v = expAvgSq[k];
        ca_adamw_element(&p, &m, &v, Grad<G>::one(grad, k), &s);
        param[k] = p;
        expAvg[k] = m;
        expAvgSq[k] = v;
      },
      [&](int64_t k) {
        float4 p = load4(param, k), m = load4(expAvg, k), v = load4(expAvgSq, k);
        const float4 g = Grad<G>::four(grad, k);
        ca_adamw_element(&p.x, &m.x, &v.x, g.x, &s);
        ca_adamw_element(&p.y, &m.y, &v.y, g.y, &s);
        ca_adamw_element(&p.z, &m.z, &v.z, g.z, &s);
        ca_adamw_element(&p.w, &m.w, &v.w, g.w, &s);
        store4(param, k, p);
        store4(expAvg, k, m);
        store4(expAvgSq, k, v);
      });
}

inline bool aligned(const void* p, int bytes) { return ((uintptr_t)p % (uintptr_t)bytes) == 0; }

inline int grid_cap(int64_t blocks, int64_t cap) {
  return (int)(blocks < 1 ? 1 : blocks > cap ? cap : blocks);
}

// ---- launchers (each defined beside its kernel) ----

// Workspace of the coupled step, carved from one zero-filled device buffer.
struct CoupledWorkspace {
  double* partial;   // [chunks, cols]: each vocabulary chunk's sum of grad^2 per hidden unit
  double* sumSq;     // [cols]: the whole vocabulary's sum
  float* scale;      // [cols]: the factor each hidden unit's elements step by
  int* tileDone;     // [tiles]: chunks finished per tile (the last one totals the tile)
  int* tilesDone;    // [1]: tiles finished (the last one derives scale and the verdict)
  int* skip;         // [1]: 1 when the step is skipped for a non-finite gradient
};

struct CoupledPlan {
  int64_t tiles;     // groups of hidden units reduced together
  int64_t chunks;    // pieces of the vocabulary reduced in parallel
  int64_t chunkLen;  // rows (vocabAxis 0) or elements of a run (vocabAxis 1) per chunk
};

CoupledPlan coupled_plan(int64_t rows, int64_t cols, int vocabAxis);
size_t coupled_workspace_bytes(const CoupledPlan& plan, int64_t cols);
CoupledWorkspace coupled_workspace(void* base, const CoupledPlan& plan, int64_t cols);

cudaError_t launch_coupled_reduce(const void* grad, ca_dtype dtype, float* expAvgSq,
                                  int64_t rows, int64_t cols, int vocabAxis,
                                  const CoupledPlan& plan, const CoupledWorkspace& ws,
                                  const ca_hyper& hyper, const ca_step_scalars& s,
                                  bool checkFinite, int* skipped, cudaStream_t stream);

cudaError_t launch_coupled_update(float* param, const void* grad, ca_dtype dtype,
                                  float* expAvg, int64_t rows, int64_t cols, int vocabAxis,
                                  const CoupledWorkspace& ws, const ca_step_scalars& s,
                                  cudaStream_t stream);

cudaError_t launch_all_finite(const void* x, ca_dtype dtype, int64_t n, int* nonFinite,
                              cudaStream_t stream);

// Host side: records a CUDA failure for ca_last_error() / ca_cuda_last_error_name().
ca_status fail(cudaError_t error, const char* where);

}  // namespace ca_cuda
