// AdamW step on the CPU, one fused pass: reads param, grad, expAvg, expAvgSq and writes param,
// expAvg, expAvgSq (28 bytes per element), plus a read of grad (4 bytes) when the finiteness
// check is on. Semantics of torch.optim.AdamW; per-element math in native/common/adam_math.h.
#include <algorithm>

#include "../common/adam_math.h"
#include "cpu_internal.h"

namespace {

void update_block(float* __restrict param, const float* __restrict grad,
                  float* __restrict expAvg, float* __restrict expAvgSq, int64_t n,
                  const ca_step_scalars* s) {
  for (int64_t i = 0; i < n; ++i) {
    ca_adamw_element(param + i, expAvg + i, expAvgSq + i, grad[i], s);
  }
}

}  // namespace

extern "C" ca_status ca_adamw_step_cpu(float* param, const float* grad, float* expAvg,
                                       float* expAvgSq, int64_t n, const ca_hyper* hyper,
                                       int checkFinite) {
  if (!param || !grad || !expAvg || !expAvgSq) return ca::invalid("a tensor pointer is NULL");
  if (n < 1) return ca::invalid("n must be >= 1, got %lld", (long long)n);
  if (ca_status st = ca::check_hyper(hyper, false)) return st;
  if (checkFinite && !ca_all_finite_cpu(grad, n)) return CA_SKIPPED_NON_FINITE;

  const ca_step_scalars s = ca_make_step_scalars(hyper->lr, hyper->beta1, hyper->beta2,
                                                 hyper->eps, hyper->weight_decay, hyper->step);
  const int64_t kBlock = 1 << 14;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for num_threads(ca::threads_for(n)) schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t o = b * kBlock;
    update_block(param + o, grad + o, expAvg + o, expAvgSq + o, std::min(kBlock, n - o), &s);
  }
  return CA_OK;
}
