// The memory-bandwidth ceiling of the benchmarks (bench/benchmark.js): STREAM's triad
// a = b + scalar * c over float32 buffers, 12 bytes counted per element (two reads, one
// write; the write-allocate read of `a` is not counted, as in STREAM). Same threads as the kernels.
#include "triad.h"

#include <chrono>
#include <string>

#include "../addon/args.h"
#include "../cpu/cpu_internal.h"

namespace {

void triad(float* __restrict a, const float* __restrict b, const float* __restrict c,
           float scalar, int64_t n) {
  // static schedule, as the kernels use, so each thread streams one contiguous share
#pragma omp parallel for num_threads(ca::threads_for(n)) schedule(static)
  for (int64_t i = 0; i < n; ++i) a[i] = b[i] + scalar * c[i];
}

}  // namespace

namespace addon {

// triad(a, b, c, scalar, reps) -> number[]: the seconds each of `reps` passes took, timed
// here so that no N-API overhead is counted. a, b, c: Float32Arrays of one length.
Napi::Value Triad(const Napi::CallbackInfo& info) {
  Reader in{info};
  float* a = in.floats(0, "a", -1);
  const int64_t n = in.ok ? (int64_t)info[0].As<Napi::Float32Array>().ElementLength() : 0;
  const float* b = in.floats(1, "b", n);
  const float* c = in.floats(2, "c", n);
  if (in.ok && !info[3].IsNumber()) in.fail_type("Expected a number for scalar");
  const int64_t reps = in.integer(4, "reps", 1);
  if (!in.ok) return info.Env().Undefined();
  if (a == b || a == c) {
    in.fail_range("Expected a to be a different buffer from b and c");
    return info.Env().Undefined();
  }

  const float scalar = info[3].As<Napi::Number>().FloatValue();
  Napi::Array seconds = Napi::Array::New(info.Env(), (size_t)reps);
  for (int64_t r = 0; r < reps; ++r) {
    const auto start = std::chrono::steady_clock::now();
    triad(a, b, c, scalar, n);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    seconds.Set((uint32_t)r, took.count());
  }
  return seconds;
}

}  // namespace addon
