// GPU benchmark and checks of the C library's CUDA kernels (run by bench/gpu/check.sh).
// Times, with CUDA events, the coupled step, our fused AdamW on the same tensor, and a
// device-to-device copy of it in the same run (median of --iters after --warmup); checks that
// the coupled step is bitwise deterministic and that 64-bit indexing reaches past 2^31
// elements. Prints one JSON object. Bytes moved per element: coupled 24, AdamW 28, copy 8.
#include <cuda_runtime.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

#include "coupled_adam.h"

namespace {

#define CHECK_CUDA(call)                                                                 \
  do {                                                                                   \
    cudaError_t e_ = (call);                                                             \
    if (e_ != cudaSuccess) {                                                             \
      fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, cudaGetErrorName(e_),      \
              cudaGetErrorString(e_));                                                   \
      exit(1);                                                                           \
    }                                                                                    \
  } while (0)

#define CHECK_CA(call)                                                                   \
  do {                                                                                   \
    ca_status s_ = (call);                                                               \
    if (s_ != CA_OK) {                                                                   \
      fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, ca_status_string(s_),      \
              ca_last_error());                                                          \
      exit(1);                                                                           \
    }                                                                                    \
  } while (0)

// A deterministic pseudo-random fill in [-scale, scale), or the constant `scale` if flat.
__global__ void fill_kernel(float* x, int64_t n, uint32_t seed, float scale, bool flat) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x) {
    uint32_t h = (uint32_t)i * 2654435761u ^ (uint32_t)(i >> 32) * 40503u ^ seed;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    x[i] = flat ? scale : scale * ((float)(h >> 8) / 8388608.0f - 1.0f);
  }
}

void fill(float* x, int64_t n, uint32_t seed, float scale, bool flat = false) {
  fill_kernel<<<4096, 256>>>(x, n, seed, scale, flat);
  CHECK_CUDA(cudaGetLastError());
}

float* alloc(int64_t n) {
  void* p = nullptr;
  CHECK_CUDA(cudaMalloc(&p, sizeof(float) * (size_t)n));
  return static_cast<float*>(p);
}

template <typename F>
double median_ms(F run, int warmup, int iters, cudaStream_t stream) {
  for (int i = 0; i < warmup; ++i) run();
  std::vector<cudaEvent_t> ev(2 * (size_t)iters);
  for (auto& e : ev) CHECK_CUDA(cudaEventCreate(&e));
  for (int i = 0; i < iters; ++i) {
    CHECK_CUDA(cudaEventRecord(ev[2 * i], stream));
    run();
    CHECK_CUDA(cudaEventRecord(ev[2 * i + 1], stream));
  }
  CHECK_CUDA(cudaStreamSynchronize(stream));
  std::vector<double> ms((size_t)iters);
  for (int i = 0; i < iters; ++i) {
    float t = 0;
    CHECK_CUDA(cudaEventElapsedTime(&t, ev[2 * i], ev[2 * i + 1]));
    ms[i] = t;
  }
  for (auto& e : ev) CHECK_CUDA(cudaEventDestroy(e));
  std::sort(ms.begin(), ms.end());
  return iters % 2 ? ms[iters / 2] : 0.5 * (ms[iters / 2 - 1] + ms[iters / 2]);
}

ca_hyper paper_hyper() {
  ca_hyper h;
  h.lr = 6e-4;
  h.beta1 = 0.9;
  h.beta2 = 0.95;
  h.eps = 1e-8;
  h.weight_decay = 0.0;
  h.avg_scale = 1.0;
  h.step = 10;
  return h;
}

std::string time_shape(int64_t rows, int64_t cols, int warmup, int iters, cudaStream_t stream) {
  const int64_t n = rows * cols;
  float *param = alloc(n), *grad = alloc(n), *expAvg = alloc(n), *expAvgSq = alloc(n);
  fill(param, n, 1, 0.02f);
  fill(grad, n, 2, 1e-3f);
  fill(expAvg, n, 3, 1e-4f);
  fill(expAvgSq, n, 4, 1e-6f, true);
  const size_t wsBytes = ca_coupled_workspace_bytes(rows, cols, 0);
  void* ws = nullptr;
  CHECK_CUDA(cudaMalloc(&ws, wsBytes));
  CHECK_CUDA(cudaMemset(ws, 0, wsBytes));
  CHECK_CUDA(cudaDeviceSynchronize());
  const ca_hyper h = paper_hyper();

  // Each run repeats the step on its own output: the same traffic, values stay finite.
  const double coupled = median_ms([&] {
    CHECK_CA(ca_coupled_step_cuda(param, grad, CA_FLOAT32, expAvg, expAvgSq, rows, cols, 0, &h,
                                  0, nullptr, ws, wsBytes, stream));
  }, warmup, iters, stream);
  const double adamw = median_ms([&] {
    CHECK_CA(ca_adamw_step_cuda(param, grad, CA_FLOAT32, expAvg, expAvgSq, n, &h, 0, nullptr,
                                stream));
  }, warmup, iters, stream);
  const double copy = median_ms([&] {
    CHECK_CUDA(cudaMemcpyAsync(expAvg, grad, sizeof(float) * (size_t)n,
                               cudaMemcpyDeviceToDevice, stream));
  }, warmup, iters, stream);

  // Determinism: the same step from the same state, twice, compared bit for bit.
  std::vector<float> a((size_t)cols), b((size_t)cols);
  bool deterministic = true;
  for (int run = 0; run < 2; ++run) {
    fill(param, n, 1, 0.02f);
    fill(expAvg, n, 3, 1e-4f);
    fill(expAvgSq, cols, 4, 1e-6f, true);
    CHECK_CA(ca_coupled_step_cuda(param, grad, CA_FLOAT32, expAvg, expAvgSq, rows, cols, 0, &h,
                                  0, nullptr, ws, wsBytes, stream));
    CHECK_CUDA(cudaStreamSynchronize(stream));
    CHECK_CUDA(cudaMemcpy(run == 0 ? a.data() : b.data(), expAvgSq, sizeof(float) * cols,
                          cudaMemcpyDeviceToHost));
  }
  deterministic = memcmp(a.data(), b.data(), sizeof(float) * cols) == 0;

  for (void* p : {(void*)param, (void*)grad, (void*)expAvg, (void*)expAvgSq, ws}) cudaFree(p);
  const double gb = 1e-9 / 1e-3;  // bytes per ms -> GB/s
  char out[640];
  snprintf(out, sizeof out,
           "{\"rows\": %lld, \"cols\": %lld, \"elements\": %lld, \"coupled_ms\": %.6f, "
           "\"adamw_ms\": %.6f, \"copy_ms\": %.6f, \"coupled_GBps\": %.2f, "
           "\"adamw_GBps\": %.2f, \"copy_GBps\": %.2f, \"coupled_over_copy_bandwidth\": %.4f, "
           "\"deterministic\": %s}",
           (long long)rows, (long long)cols, (long long)n, coupled, adamw, copy,
           24.0 * n / coupled * gb, 28.0 * n / adamw * gb, 8.0 * n / copy * gb,
           (24.0 * n / coupled) / (8.0 * n / copy), deterministic ? "true" : "false");
  return out;
}

// 262144 x 8200 = 2,149,580,800 elements, past 2^31: from zero state with grad = 1, step 1
// moves every element by -lr / (1 + eps), so elements on both sides of 2^31 must agree.
std::string check_large(cudaStream_t stream) {
  const int64_t rows = 262144, cols = 8200, n = rows * cols;
  size_t freeBytes = 0, total = 0;
  CHECK_CUDA(cudaMemGetInfo(&freeBytes, &total));
  if (freeBytes < (size_t)(3.2 * 4.0 * (double)n)) {
    return "{\"ran\": false, \"reason\": \"not enough device memory\"}";
  }
  float *param = alloc(n), *grad = alloc(n), *expAvg = alloc(n), *expAvgSq = alloc(cols);
  CHECK_CUDA(cudaMemset(param, 0, sizeof(float) * (size_t)n));
  CHECK_CUDA(cudaMemset(expAvg, 0, sizeof(float) * (size_t)n));
  CHECK_CUDA(cudaMemset(expAvgSq, 0, sizeof(float) * (size_t)cols));
  fill(grad, n, 0, 1.0f, true);
  const size_t wsBytes = ca_coupled_workspace_bytes(rows, cols, 0);
  void* ws = nullptr;
  CHECK_CUDA(cudaMalloc(&ws, wsBytes));
  CHECK_CUDA(cudaMemset(ws, 0, wsBytes));
  ca_hyper h = paper_hyper();
  h.step = 1;
  h.lr = 1e-3;
  CHECK_CA(ca_coupled_step_cuda(param, grad, CA_FLOAT32, expAvg, expAvgSq, rows, cols, 0, &h, 0,
                                nullptr, ws, wsBytes, stream));
  CHECK_CUDA(cudaStreamSynchronize(stream));
  const int64_t at[] = {0, (1ll << 31) - 1, 1ll << 31, (1ll << 31) + 1, n - 1};
  const float want = (float)(-1e-3 / (1.0 + 1e-8));
  bool ok = true;
  for (int64_t k : at) {
    float got = 0;
    CHECK_CUDA(cudaMemcpy(&got, param + k, sizeof got, cudaMemcpyDeviceToHost));
    ok = ok && fabsf(got - want) <= 1e-6f * fabsf(want);
  }
  for (void* p : {(void*)param, (void*)grad, (void*)expAvg, (void*)expAvgSq, ws}) cudaFree(p);
  return std::string("{\"ran\": true, \"elements\": ") + std::to_string(n) +
         ", \"passed\": " + (ok ? "true" : "false") + "}";
}

}  // namespace

int main(int argc, char** argv) {
  int warmup = 10, iters = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--warmup")) warmup = atoi(argv[i + 1]);
    if (!strcmp(argv[i], "--iters")) iters = atoi(argv[i + 1]);
  }
  if (iters < 50) {
    fprintf(stderr, "gpu_bench: --iters must be at least 50\n");
    return 2;
  }
  cudaDeviceProp prop;
  CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
  cudaStream_t stream;
  CHECK_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));

  const int64_t shapes[][2] = {{50304, 768}, {128256, 4096}, {262144, 2304}};
  printf("{\"device\": \"%s\", \"compute_capability\": \"%d.%d\", \"warmup\": %d, "
         "\"iters\": %d, \"statistic\": \"median\", \"shapes\": [",
         prop.name, prop.major, prop.minor, warmup, iters);
  for (size_t s = 0; s < 3; ++s) {
    printf("%s\n  %s", s ? "," : "", time_shape(shapes[s][0], shapes[s][1], warmup, iters,
                                                 stream).c_str());
    fflush(stdout);
  }
  printf("],\n \"index_past_2_31\": %s}\n", check_large(stream).c_str());
  return 0;
}
