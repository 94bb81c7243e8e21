// Coupled Adam, launch 1 of 2: the vocabulary sum of grad^2 for each hidden unit, then the new
// coupled second moment and each hidden unit's step factor. Reads grad once (4 bytes per
// element, 2 for bfloat16). Formula: shared/COUPLED_ADAM.md "The update" (vbar recursion).
//
// Determinism without float atomics: a block sums one (tile, chunk) piece in a fixed thread
// order, in double; the last block of a tile to finish (an integer counter decides which)
// adds the tile's chunks in chunk order, and the last tile derives the factors. Which block
// is last varies run to run; the order of every addition does not.
#include <algorithm>

#include "cuda_internal.cuh"

namespace ca_cuda {
namespace {

// vocabAxis 0 ([rows, cols]): a block is 16 lanes of rows by 16 threads of 4 hidden units.
constexpr int kLanes = 16;
constexpr int64_t kTileCols = 64;
constexpr int64_t kMaxChunks = 64;

template <typename G>
__device__ void sum_rows_chunk(const G* __restrict__ grad, int64_t rows, int64_t cols,
                               int64_t chunkLen, bool vectors, double* __restrict__ partial) {
  __shared__ double sums[kLanes][kTileCols];
  const int lane = threadIdx.x / 16, q = threadIdx.x % 16;
  const int64_t col0 = blockIdx.x * kTileCols + q * 4;
  const int64_t rBegin = blockIdx.y * chunkLen;
  const int64_t rEnd = min(rows, rBegin + chunkLen);
  double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  if (vectors && col0 + 4 <= cols) {
    for (int64_t r = rBegin + lane; r < rEnd; r += kLanes) {
      const float4 g = Grad<G>::four(grad, r * cols + col0);
      a0 += (double)g.x * g.x;
      a1 += (double)g.y * g.y;
      a2 += (double)g.z * g.z;
      a3 += (double)g.w * g.w;
    }
  } else {
    for (int64_t r = rBegin + lane; r < rEnd; r += kLanes) {
      const int64_t o = r * cols + col0;
      const float g0 = col0 + 0 < cols ? Grad<G>::one(grad, o + 0) : 0.0f;
      const float g1 = col0 + 1 < cols ? Grad<G>::one(grad, o + 1) : 0.0f;
      const float g2 = col0 + 2 < cols ? Grad<G>::one(grad, o + 2) : 0.0f;
      const float g3 = col0 + 3 < cols ? Grad<G>::one(grad, o + 3) : 0.0f;
      a0 += (double)g0 * g0;
      a1 += (double)g1 * g1;
      a2 += (double)g2 * g2;
      a3 += (double)g3 * g3;
    }
  }
  sums[lane][q * 4 + 0] = a0;
  sums[lane][q * 4 + 1] = a1;
  sums[lane][q * 4 + 2] = a2;
  sums[lane][q * 4 + 3] = a3;
  __syncthreads();
  if (threadIdx.x < kTileCols) {
    double total = 0;
    for (int l = 0; l < kLanes; ++l) total += sums[l][threadIdx.x];
    const int64_t col = blockIdx.x * kTileCols + threadIdx.x;
    if (col < cols) partial[blockIdx.y * cols + col] = total;
  }
}

// vocabAxis 1 ([cols, rows]): hidden unit blockIdx.x is one contiguous run of `rows`.
template <typename G>
__device__ void sum_run_chunk(const G* __restrict__ grad, int64_t rows, int64_t cols,
                              int64_t chunkLen, bool vectors, double* __restrict__ partial) {
  __shared__ double lanes[kThreads];
  const int64_t j = blockIdx.x;
  const int64_t offset = blockIdx.y * chunkLen;
  const int64_t len = min(chunkLen, rows - offset);
  double a = 0;
  walk_run(
      j * rows + offset, len, vectors, threadIdx.x, kThreads,
      [&](int64_t k) {
        const float g = Grad<G>::one(grad, k);
        a += (double)g * g;
      },
      [&](int64_t k) {
        const float4 g = Grad<G>::four(grad, k);
        a += ((double)g.x * g.x + (double)g.y * g.y) + ((double)g.z * g.z + (double)g.w * g.w);
      });
  lanes[threadIdx.x] = a;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if ((int)threadIdx.x < half) lanes[threadIdx.x] += lanes[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) partial[blockIdx.y * cols + j] = lanes[0];
}

// True in every thread of the block that made `counter` reach `arrivals`. The fence makes
// this block's stores visible before the count says they are there.
__device__ bool arrive_last(int* counter, int arrivals) {
  __shared__ bool last;
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) last = atomicAdd(counter, 1) == arrivals - 1;
  __syncthreads();
  return last;
}

// The layout is a template parameter: one instantiation per layout keeps each lean in
// registers (ptxas, sm_90: the [cols, rows] one needs 40 instead of the 64 of both in one).
template <typename G, int kVocabAxis>
__global__ void __launch_bounds__(kThreads)
    coupled_reduce_kernel(const G* __restrict__ grad, float* __restrict__ expAvgSq,
                          int64_t rows, int64_t cols, int64_t chunkLen,
                          bool vectors, CoupledWorkspace ws, double beta2, double avgScale,
                          double eps, ca_step_scalars s, bool checkFinite, int* skipped) {
  // pass 1: this block's chunk of the vocabulary
  if (kVocabAxis == 0) {
    sum_rows_chunk(grad, rows, cols, chunkLen, vectors, ws.partial);
  } else {
    sum_run_chunk(grad, rows, cols, chunkLen, vectors, ws.partial);
  }
  if (!arrive_last(ws.tileDone + blockIdx.x, (int)gridDim.y)) return;

  // pass 2, the tile's last block: its hidden units' totals, adding chunks in chunk order
  const int64_t width = kVocabAxis == 0 ? kTileCols : 1;
  for (int64_t c = threadIdx.x; c < width; c += kThreads) {
    const int64_t col = blockIdx.x * width + c;
    if (col >= cols) break;
    double total = 0;
    for (int64_t chunk = 0; chunk < (int64_t)gridDim.y; ++chunk) {
      total += __ldcg(ws.partial + chunk * cols + col);
    }
    __stcg(ws.sumSq + col, total);
  }
  if (threadIdx.x == 0) ws.tileDone[blockIdx.x] = 0;  // zero again for the next step
  if (!arrive_last(ws.tilesDone, (int)gridDim.x)) return;

  // pass 3, the last tile: the finiteness verdict over every hidden unit, then the factors.
  // A sum of squares of floats cannot overflow a double: it is finite iff every grad is.
  int bad = 0;
  for (int64_t col = threadIdx.x; col < cols; col += kThreads) {
    bad |= !isfinite(__ldcg(ws.sumSq + col));
  }
  const bool skip = checkFinite && __syncthreads_or(bad);
  if (!skip) {
    for (int64_t col = threadIdx.x; col < cols; col += kThreads) {
      const double meanGradSq = __ldcg(ws.sumSq + col) / (double)rows;
      const float v = ca_coupled_exp_avg_sq(expAvgSq[col], meanGradSq, beta2);
      expAvgSq[col] = v;
      ws.scale[col] = ca_coupled_column_scale(v, avgScale, eps, &s);
    }
  }
  if (threadIdx.x == 0) {
    *ws.skip = skip ? 1 : 0;
    if (skipped) *skipped = skip ? 1 : 0;
    *ws.tilesDone = 0;
  }
}

template <typename G>
void launch(dim3 grid, const G* grad, float* expAvgSq, int64_t rows, int64_t cols,
            int vocabAxis, int64_t chunkLen, bool vectors, const CoupledWorkspace& ws,
            const ca_hyper& h, const ca_step_scalars& s, bool checkFinite, int* skipped,
            cudaStream_t stream) {
  if (vocabAxis == 0) {
    coupled_reduce_kernel<G, 0><<<grid, kThreads, 0, stream>>>(
        grad, expAvgSq, rows, cols, chunkLen, vectors, ws, h.beta2, h.avg_scale, h.eps, s,
        checkFinite, skipped);
  } else {
    coupled_reduce_kernel<G, 1><<<grid, kThreads, 0, stream>>>(
        grad, expAvgSq, rows, cols, chunkLen, vectors, ws, h.beta2, h.avg_scale, h.eps, s,
        checkFinite, skipped);
  }
}

size_t round_up(size_t bytes) { return (bytes + 255) / 256 * 256; }

}  // namespace

// Chunks depend on the shape alone, so the order of additions, and the result, do too.
CoupledPlan coupled_plan(int64_t rows, int64_t cols, int vocabAxis) {
  CoupledPlan p;
  if (vocabAxis == 0) {
    p.tiles = (cols + kTileCols - 1) / kTileCols;
    p.chunks = std::min<int64_t>(kMaxChunks, (rows + 255) / 256);
    p.chunkLen = (rows + p.chunks - 1) / p.chunks;
  } else {
    p.tiles = cols;
    p.chunks = std::min<int64_t>(kMaxChunks, (rows + 8191) / 8192);
    p.chunkLen = ((rows + p.chunks - 1) / p.chunks + 3) / 4 * 4;  // chunks stay 4-aligned
  }
  return p;
}

size_t coupled_workspace_bytes(const CoupledPlan& p, int64_t cols) {
  return round_up(sizeof(double) * (size_t)(p.chunks * cols)) +
         round_up(sizeof(double) * (size_t)cols) + round_up(sizeof(float) * (size_t)cols) +
         round_up(sizeof(int) * (size_t)(p.tiles + 2));
}

CoupledWorkspace coupled_workspace(void* base, const CoupledPlan& p, int64_t cols) {
  char* at = static_cast<char*>(base);
  CoupledWorkspace ws;
  ws.partial = reinterpret_cast<double*>(at);
  at += round_up(sizeof(double) * (size_t)(p.chunks * cols));
  ws.sumSq = reinterpret_cast<double*>(at);
  at += round_up(sizeof(double) * (size_t)cols);
  ws.scale = reinterpret_cast<float*>(at);
  at += round_up(sizeof(float) * (size_t)cols);
  ws.tileDone = reinterpret_cast<int*>(at);
  ws.tilesDone = ws.tileDone + p.tiles;
  ws.skip = ws.tilesDone + 1;
  return ws;
}

cudaError_t launch_coupled_reduce(const void* grad, ca_dtype dtype, float* expAvgSq,
                                  int64_t rows, int64_t cols, int vocabAxis,
                                  const CoupledPlan& plan, const CoupledWorkspace& ws,
                                  const ca_hyper& hyper, const ca_step_scalars& s,
                                  bool checkFinite, int* skipped, cudaStream_t stream) {
  const dim3 grid((unsigned)plan.tiles, (unsigned)plan.chunks);
  const int vectorBytes = dtype == CA_BFLOAT16 ? 8 : 16;
  // vocabAxis 0 loads 4 hidden units of one row: rows must start on a multiple of 4.
  const bool vectors = aligned(grad, vectorBytes) && (vocabAxis == 1 || cols % 4 == 0);
  if (dtype == CA_BFLOAT16) {
    launch(grid, static_cast<const __nv_bfloat16*>(grad), expAvgSq, rows, cols, vocabAxis,
              plan.chunkLen, vectors, ws, hyper, s, checkFinite, skipped, stream);
  } else {
    launch(grid, static_cast<const float*>(grad), expAvgSq, rows, cols, vocabAxis,
              plan.chunkLen, vectors, ws, hyper, s, checkFinite, skipped, stream);
  }
  return cudaGetLastError();
}

}  // namespace ca_cuda
