// GPU benchmark and checks of the C library's CUDA kernels (run by bench/gpu/check.sh).
// Checks the CUDA kernels against the CPU kernels (themselves tested against float64) on
// awkward shapes, both layouts, bf16 grads, the multi-tensor AdamW and the non-finite skip;
// times, with CUDA events, the coupled step, our fused AdamW on the same tensor, and a
// device-to-device copy of it in the same run (median of --iters after --warmup); checks that
// the coupled step is bitwise deterministic and that 64-bit indexing reaches past 2^31
// elements. Prints one JSON object. Bytes moved per element: coupled 24, AdamW 28, copy 8.
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <stdint.h>
#include <math.h>
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

// ---- the CUDA kernels against the CPU kernels ----

std::vector<float> host_random(int64_t n, uint32_t seed, float scale) {
  std::vector<float> x((size_t)n);
  for (int64_t k = 0; k < n; ++k) {
    seed = seed * 1664525u + 1013904223u;
    x[(size_t)k] = scale * ((float)(seed >> 8) / 8388608.0f - 1.0f);
  }
  return x;
}

double rel_error(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0, scale = 0;
  for (size_t k = 0; k < a.size(); ++k) {
    const double d = fabs((double)a[k] - (double)b[k]);
    diff = d != d ? INFINITY : std::max(diff, d);
    scale = std::max(scale, fabs((double)b[k]));
  }
  return scale == 0 ? diff : diff / scale;
}

struct Device {
  void* p = nullptr;
  explicit Device(size_t bytes) { CHECK_CUDA(cudaMalloc(&p, bytes)); }
  ~Device() { cudaFree(p); }
  float* f() const { return static_cast<float*>(p); }
};

void upload(const Device& d, const std::vector<float>& x) {
  CHECK_CUDA(cudaMemcpy(d.p, x.data(), sizeof(float) * x.size(), cudaMemcpyHostToDevice));
}
std::vector<float> download(const Device& d, size_t n) {
  std::vector<float> x(n);
  CHECK_CUDA(cudaMemcpy(x.data(), d.p, sizeof(float) * n, cudaMemcpyDeviceToHost));
  return x;
}

// Three coupled steps on the GPU and on the CPU from the same state; bf16: the GPU gets bf16
// grads, the CPU their float values. Returns the largest relative error of param, expAvg
// and expAvgSq.
double coupled_vs_cpu(int64_t rows, int64_t cols, int axis, bool bf16, cudaStream_t stream) {
  const int64_t n = rows * cols;
  std::vector<float> param = host_random(n, 1 + (uint32_t)n, 1.0f), m((size_t)n, 0.0f),
                     v((size_t)cols, 0.0f);
  Device dParam(4 * n), dGrad(4 * n), dM(4 * n), dV(4 * cols);
  const size_t wsBytes = ca_coupled_workspace_bytes(rows, cols, axis);
  Device ws(wsBytes);
  CHECK_CUDA(cudaMemset(ws.p, 0, wsBytes));
  upload(dParam, param);
  upload(dM, m);
  upload(dV, v);
  ca_hyper h = paper_hyper();
  h.weight_decay = axis == 0 ? 0.1 : 0.0;
  h.avg_scale = axis == 0 ? 1.0 : 0.25;
  for (int t = 1; t <= 3; ++t) {
    std::vector<float> grad = host_random(n, 100 + (uint32_t)t, (float)pow(10.0, -t));
    if (bf16) {
      std::vector<__nv_bfloat16> g16((size_t)n);
      for (int64_t k = 0; k < n; ++k) {
        g16[(size_t)k] = __float2bfloat16(grad[(size_t)k]);
        grad[(size_t)k] = __bfloat162float(g16[(size_t)k]);
      }
      CHECK_CUDA(cudaMemcpy(dGrad.p, g16.data(), 2 * (size_t)n, cudaMemcpyHostToDevice));
    } else {
      upload(dGrad, grad);
    }
    h.step = t;
    CHECK_CA(ca_coupled_step_cpu(param.data(), grad.data(), m.data(), v.data(), rows, cols,
                                 axis, &h, 1));
    CHECK_CA(ca_coupled_step_cuda(dParam.f(), dGrad.p, bf16 ? CA_BFLOAT16 : CA_FLOAT32, dM.f(),
                                  dV.f(), rows, cols, axis, &h, 1, nullptr, ws.p, wsBytes,
                                  stream));
    CHECK_CUDA(cudaStreamSynchronize(stream));
  }
  return std::max({rel_error(download(dParam, n), param), rel_error(download(dM, n), m),
                   rel_error(download(dV, cols), v)});
}

// AdamW, single-tensor and multi-tensor kernels, against the CPU kernel.
double adamw_vs_cpu(const std::vector<int64_t>& sizes, cudaStream_t stream) {
  double worst = 0;
  std::vector<std::vector<float>> p, m, v;
  std::vector<Device*> dev;
  std::vector<ca_adamw_tensor> list;
  for (size_t i = 0; i < sizes.size(); ++i) {
    const int64_t n = sizes[i];
    p.push_back(host_random(n, 7 + (uint32_t)i, 1.0f));
    m.emplace_back((size_t)n, 0.0f);
    v.emplace_back((size_t)n, 0.0f);
    for (int k = 0; k < 4; ++k) dev.push_back(new Device(4 * (size_t)n));
    upload(*dev[4 * i], p[i]);
    CHECK_CUDA(cudaMemset(dev[4 * i + 2]->p, 0, 4 * (size_t)n));
    CHECK_CUDA(cudaMemset(dev[4 * i + 3]->p, 0, 4 * (size_t)n));
    list.push_back({dev[4 * i]->f(), dev[4 * i + 1]->p, dev[4 * i + 2]->f(), dev[4 * i + 3]->f(),
                    n});
  }
  ca_hyper h = paper_hyper();
  h.weight_decay = 0.1;
  for (int t = 1; t <= 3; ++t) {
    h.step = t;
    for (size_t i = 0; i < sizes.size(); ++i) {
      std::vector<float> g = host_random(sizes[i], 50 + (uint32_t)(t * 100 + i), 0.1f);
      upload(*dev[4 * i + 1], g);
      CHECK_CA(ca_adamw_step_cpu(p[i].data(), g.data(), m[i].data(), v[i].data(), sizes[i], &h,
                                 1));
    }
    if (t == 2) {  // the single-tensor kernel on step 2, the multi-tensor one otherwise
      for (const ca_adamw_tensor& d : list) {
        CHECK_CA(ca_adamw_step_cuda(d.param, d.grad, CA_FLOAT32, d.exp_avg, d.exp_avg_sq, d.n,
                                    &h, 0, nullptr, stream));
      }
    } else {
      CHECK_CA(ca_adamw_multi_step_cuda(list.data(), (int64_t)list.size(), CA_FLOAT32, &h,
                                        nullptr, stream));
    }
    CHECK_CUDA(cudaStreamSynchronize(stream));
  }
  for (size_t i = 0; i < sizes.size(); ++i) {
    worst = std::max({worst, rel_error(download(*dev[4 * i], (size_t)sizes[i]), p[i]),
                      rel_error(download(*dev[4 * i + 3], (size_t)sizes[i]), v[i])});
  }
  for (Device* d : dev) delete d;
  return worst;
}

// A NaN grad: the coupled step and AdamW (check_finite) report the skip and change nothing.
bool skip_changes_nothing(cudaStream_t stream) {
  const int64_t rows = 300, cols = 20, n = rows * cols;
  std::vector<float> param = host_random(n, 3, 1.0f), grad = host_random(n, 4, 1.0f);
  grad[(size_t)n - 7] = NAN;
  Device dParam(4 * n), dGrad(4 * n), dM(4 * n), dV(4 * n), flag(sizeof(int));
  const size_t wsBytes = ca_coupled_workspace_bytes(rows, cols, 0);
  Device ws(wsBytes);
  CHECK_CUDA(cudaMemset(ws.p, 0, wsBytes));
  upload(dParam, param);
  upload(dGrad, grad);
  CHECK_CUDA(cudaMemset(dM.p, 0, 4 * n));
  CHECK_CUDA(cudaMemset(dV.p, 0, 4 * n));
  ca_hyper h = paper_hyper();
  int skippedCoupled = 0, skippedAdamw = 0;
  CHECK_CA(ca_coupled_step_cuda(dParam.f(), dGrad.p, CA_FLOAT32, dM.f(), dV.f(), rows, cols, 0,
                                &h, 1, static_cast<int*>(flag.p), ws.p, wsBytes, stream));
  CHECK_CUDA(cudaStreamSynchronize(stream));
  CHECK_CUDA(cudaMemcpy(&skippedCoupled, flag.p, sizeof(int), cudaMemcpyDeviceToHost));
  CHECK_CA(ca_adamw_step_cuda(dParam.f(), dGrad.p, CA_FLOAT32, dM.f(), dV.f(), n, &h, 1,
                              static_cast<int*>(flag.p), stream));
  CHECK_CUDA(cudaStreamSynchronize(stream));
  CHECK_CUDA(cudaMemcpy(&skippedAdamw, flag.p, sizeof(int), cudaMemcpyDeviceToHost));
  const std::vector<float> after = download(dParam, (size_t)n), v = download(dV, (size_t)n);
  bool vZero = true;
  for (float x : v) vZero = vZero && x == 0.0f;
  return skippedCoupled == 1 && skippedAdamw == 1 && vZero &&
         memcmp(after.data(), param.data(), sizeof(float) * (size_t)n) == 0;
}

// A JSON number, or null for a non-finite one (a NaN on one side makes the error infinite).
std::string json_number(double x) {
  if (!isfinite(x)) return "null";
  char text[32];
  snprintf(text, sizeof text, "%.2e", x);
  return text;
}

std::string check_vs_cpu(cudaStream_t stream) {
  const int64_t shapes[][2] = {{1, 1},    {3, 5},     {17, 13},  {7, 4099},
                               {262144, 8}, {1000, 3}, {50304, 64}, {5, 1027}};
  double worst = 0;
  std::string detail;
  for (const auto& s : shapes) {
    for (int axis = 0; axis < 2; ++axis) {
      const double e = coupled_vs_cpu(s[0], s[1], axis, false, stream);
      worst = std::max(worst, e);
      char one[64];
      snprintf(one, sizeof one, "%s\"%lldx%lld axis %d\": ", detail.empty() ? "" : ", ",
               (long long)s[0], (long long)s[1], axis);
      detail += one + json_number(e);
    }
  }
  const double bf16 = std::max(coupled_vs_cpu(4099, 24, 0, true, stream),
                               coupled_vs_cpu(24, 4099, 1, true, stream));
  const double adamw = adamw_vs_cpu({1, 3, 4, 1001, 1 << 20, 65536 * 3 + 5}, stream);
  const bool skip = skip_changes_nothing(stream);
  const double tol = 1e-6;  // the same float32 ops; only the double reduction order differs
  const bool passed = worst <= tol && bf16 <= tol && adamw <= tol && skip;
  return "{\"tolerance\": " + json_number(tol) + ", \"coupled_worst\": " + json_number(worst) +
         ", \"coupled_bf16\": " + json_number(bf16) + ", \"adamw_single_and_multi\": " +
         json_number(adamw) + ", \"skip_changes_nothing\": " + (skip ? "true" : "false") +
         ", \"passed\": " + (passed ? "true" : "false") + ", \"coupled\": {" + detail + "}}";
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
         "\"iters\": %d, \"statistic\": \"median\",\n \"vs_cpu\": %s,\n \"shapes\": [",
         prop.name, prop.major, prop.minor, warmup, iters, check_vs_cpu(stream).c_str());
  for (size_t s = 0; s < 3; ++s) {
    printf("%s\n  %s", s ? "," : "", time_shape(shapes[s][0], shapes[s][1], warmup, iters,
                                                 stream).c_str());
    fflush(stdout);
  }
  printf("],\n \"index_past_2_31\": %s}\n", check_large(stream).c_str());
  return 0;
}
