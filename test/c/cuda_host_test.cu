// Host-side checks of the CUDA build's index arithmetic, which must be right before any GPU
// runs it: walk_run (scalar head, 16-byte vectors, scalar tail) visits every element of a
// run exactly once with aligned vectors, for any start, length and thread split; the coupled
// step's plan covers the vocabulary exactly with chunks, and its workspace carving fits the
// size it reports. Built and run by CTest next to c_api_test when nvcc is found.
#include <stdio.h>

#include <vector>

#include "../../native/cuda/cuda_internal.cuh"

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  printf("%s %s\n", ok ? "ok  " : "FAIL", what);
  if (!ok) failures++;
}

// Functors rather than lambdas: walk_run is __host__ __device__, so its callees must be too.
struct CountOne {
  int* seen;
  __host__ __device__ void operator()(int64_t k) const { seen[k]++; }
};
struct CountFour {
  int* seen;
  bool* aligned;
  __host__ __device__ void operator()(int64_t k) const {
    *aligned = *aligned && k % 4 == 0;
    for (int q = 0; q < 4; ++q) seen[k + q]++;
  }
};

bool walk_covers_once(int64_t begin, int64_t len, bool vectors, int64_t threads) {
  std::vector<int> seen((size_t)(begin + len + 8), 0);
  bool aligned = true;
  for (int64_t t = 0; t < threads; ++t) {
    ca_cuda::walk_run(begin, len, vectors, t, threads, CountOne{seen.data()},
                      CountFour{seen.data(), &aligned});
  }
  for (int64_t k = 0; k < (int64_t)seen.size(); ++k) {
    const int want = k >= begin && k < begin + len ? 1 : 0;
    if (seen[(size_t)k] != want) return false;
  }
  return aligned;
}

void test_walk_run() {
  bool ok = true;
  for (int64_t begin = 0; begin < 9; ++begin) {
    for (int64_t len = 0; len < 40; ++len) {
      for (int64_t threads : {1, 2, 3, 7, 32}) {
        for (bool vectors : {false, true}) {
          ok = ok && walk_covers_once(begin, len, vectors, threads);
        }
      }
    }
  }
  check(ok, "walk_run visits each element once, vectors 4-aligned (all starts, lengths, splits)");
}

void test_plan() {
  bool ok = true;
  const int64_t rowsList[] = {1, 2, 255, 256, 257, 4099, 16128, 16129, 50304, 262144, 8193,
                              65537, 1000003};
  const int64_t colsList[] = {1, 3, 8, 63, 64, 65, 768, 4099};
  for (int64_t rows : rowsList) {
    for (int64_t cols : colsList) {
      for (int axis = 0; axis < 2; ++axis) {
        const ca_cuda::CoupledPlan p = ca_cuda::coupled_plan(rows, cols, axis);
        const bool covers = p.chunks >= 1 && p.chunks <= 64 && p.chunks * p.chunkLen >= rows &&
                            (p.chunks - 1) * p.chunkLen < rows;
        const bool tiles = axis == 0 ? p.tiles * 64 >= cols && (p.tiles - 1) * 64 < cols
                                     : p.tiles == cols;
        const bool aligned = axis == 0 || p.chunkLen % 4 == 0;
        // Carving a workspace at address 0 must end inside the reported size.
        const ca_cuda::CoupledWorkspace ws = ca_cuda::coupled_workspace(nullptr, p, cols);
        const size_t end = (size_t)(uintptr_t)(ws.skip + 1);
        const bool fits = end <= ca_cuda::coupled_workspace_bytes(p, cols) &&
                          (size_t)(uintptr_t)ws.sumSq >= sizeof(double) * p.chunks * cols;
        ok = ok && covers && tiles && aligned && fits;
        if (!(covers && tiles && aligned && fits)) {
          printf("     plan %lld x %lld axis %d: chunks %lld of %lld, tiles %lld\n",
                 (long long)rows, (long long)cols, axis, (long long)p.chunks,
                 (long long)p.chunkLen, (long long)p.tiles);
        }
      }
    }
  }
  check(ok, "coupled plan: chunks cover the vocabulary exactly, workspace carving fits");
}

}  // namespace

int main() {
  test_walk_run();
  test_plan();
  printf("%s: %d failure(s)\n", failures ? "FAILED" : "passed", failures);
  return failures ? 1 : 0;
}
