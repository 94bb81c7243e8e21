// Status strings, per-thread error messages, argument checks, the thread setting, and the
// finiteness scan shared by the CPU kernels.
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu_internal.h"

namespace {
thread_local char g_last_error[512] = "";
int g_threads = 0;  // 0: OpenMP's default
}  // namespace

namespace ca {

ca_status invalid(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  vsnprintf(g_last_error, sizeof g_last_error, fmt, args);
  va_end(args);
  return CA_ERR_INVALID_ARGUMENT;
}

ca_status check_hyper(const ca_hyper* h, bool coupled) {
  if (h == nullptr) return invalid("hyper must not be NULL");
  if (!(isfinite(h->lr) && h->lr >= 0)) return invalid("lr must be finite and >= 0, got %g", h->lr);
  if (!(h->beta1 >= 0 && h->beta1 < 1)) return invalid("beta1 must be in [0, 1), got %g", h->beta1);
  if (!(h->beta2 >= 0 && h->beta2 < 1)) return invalid("beta2 must be in [0, 1), got %g", h->beta2);
  if (!(isfinite(h->eps) && h->eps >= 0)) return invalid("eps must be finite and >= 0, got %g", h->eps);
  if (!(isfinite(h->weight_decay) && h->weight_decay >= 0)) {
    return invalid("weight_decay must be finite and >= 0, got %g", h->weight_decay);
  }
  if (coupled && !(isfinite(h->avg_scale) && h->avg_scale > 0)) {
    return invalid("avg_scale must be finite and > 0, got %g", h->avg_scale);
  }
  if (h->step < 1) return invalid("step must be >= 1, got %lld", (long long)h->step);
  g_last_error[0] = '\0';
  return CA_OK;
}

ca_status check_coupled_shape(const void* param, const void* grad, const void* expAvg,
                              const void* expAvgSq, int64_t rows, int64_t cols, int vocabAxis) {
  if (!param || !grad || !expAvg || !expAvgSq) return invalid("a tensor pointer is NULL");
  if (rows < 1 || cols < 1) {
    return invalid("rows and cols must be >= 1, got %lld and %lld", (long long)rows,
                   (long long)cols);
  }
  if (rows > INT64_MAX / cols) return invalid("rows * cols overflows 64 bits");
  if (vocabAxis != 0 && vocabAxis != 1) return invalid("vocab_axis must be 0 or 1");
  return CA_OK;
}

int threads_for(int64_t n) {
  const int64_t kMinPerThread = 1 << 18;
  const int most = ca_get_num_threads();
  return (int)std::max<int64_t>(1, std::min<int64_t>(most, n / kMinPerThread));
}

}  // namespace ca

extern "C" {

const char* ca_status_string(ca_status status) {
  switch (status) {
    case CA_OK: return "ok";
    case CA_SKIPPED_NON_FINITE: return "skipped: a gradient is NaN or infinite";
    case CA_ERR_INVALID_ARGUMENT: return "invalid argument";
    case CA_ERR_CUDA: return "CUDA error";
    case CA_ERR_NOT_COMPILED: return "not compiled into this build";
  }
  return "unknown status";
}

const char* ca_last_error(void) { return g_last_error; }

void ca_set_num_threads(int threads) { g_threads = threads > 0 ? threads : 0; }

int ca_get_num_threads(void) {
#ifdef _OPENMP
  return g_threads > 0 ? g_threads : omp_get_max_threads();
#else
  return 1;
#endif
}

// Non-finite floats are exactly those whose exponent bits are all ones; an integer test
// vectorizes where a float comparison chain would not.
int ca_all_finite_cpu(const float* x, int64_t n) {
  if (x == nullptr || n <= 0) return n <= 0 ? 1 : 0;
  int bad = 0;
#pragma omp parallel for num_threads(ca::threads_for(n)) reduction(| : bad) schedule(static)
  for (int64_t block = 0; block < (n + 4095) / 4096; ++block) {
    const int64_t begin = block * 4096;
    const int64_t end = std::min<int64_t>(n, begin + 4096);
    uint32_t any = 0;
    for (int64_t i = begin; i < end; ++i) {
      uint32_t bits;
      memcpy(&bits, x + i, sizeof bits);
      any |= (uint32_t)((bits & 0x7f800000u) == 0x7f800000u);
    }
    bad |= (int)any;
  }
  return bad ? 0 : 1;
}

}  // extern "C"
