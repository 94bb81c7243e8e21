// Per-step scalars and per-element arithmetic of AdamW and Coupled Adam, shared by the CPU
// kernels (native/cpu) and the CUDA kernels (native/cuda): both compute the same float32 ops.
// Formulas: shared/COUPLED_ADAM.md "The update"; AdamW follows torch.optim.AdamW (decoupled
// weight decay applied first, eps added after the square root).
#pragma once

#include <math.h>
#include <stdint.h>

#if defined(__CUDACC__)
#define CA_HD __host__ __device__ __forceinline__
#else
#define CA_HD static inline
#endif

// Derived once per step on the host, in double so that beta^step keeps its digits.
typedef struct ca_step_scalars {
  float decay;          // 1 - lr * weightDecay
  float beta1;
  float oneMinusBeta1;
  float beta2;
  float oneMinusBeta2;
  float stepSize;       // lr / (1 - beta1^step)
  float invBc2Sqrt;     // 1 / sqrt(1 - beta2^step)
  float eps;
  double stepSizeF64;   // the same two corrections in double, for the per-column factor
  double bc2F64;        // 1 - beta2^step
} ca_step_scalars;

static inline ca_step_scalars ca_make_step_scalars(double lr, double beta1, double beta2,
                                                   double eps, double weightDecay,
                                                   int64_t step) {
  ca_step_scalars s;
  const double bc1 = 1.0 - pow(beta1, (double)step);
  const double bc2 = 1.0 - pow(beta2, (double)step);
  s.decay = (float)(1.0 - lr * weightDecay);
  s.beta1 = (float)beta1;
  s.oneMinusBeta1 = (float)(1.0 - beta1);
  s.beta2 = (float)beta2;
  s.oneMinusBeta2 = (float)(1.0 - beta2);
  s.stepSize = (float)(lr / bc1);
  s.invBc2Sqrt = (float)(1.0 / sqrt(bc2));
  s.eps = (float)eps;
  s.stepSizeF64 = lr / bc1;
  s.bc2F64 = bc2;
  return s;
}

// New coupled second moment of one hidden unit from the vocabulary mean of grad^2 (double).
CA_HD float ca_coupled_exp_avg_sq(float expAvgSq, double meanGradSq, double beta2) {
  return (float)(beta2 * (double)expAvgSq + (1.0 - beta2) * meanGradSq);
}

// The factor every element of one hidden unit's column is stepped by:
// stepSize / (sqrt(avgScale * vbar / bc2) + eps). A zero denominator (eps = 0 and a column
// that never saw a gradient, so its first moment is zero too) gives 0, not 0/0 = NaN.
CA_HD float ca_coupled_column_scale(float expAvgSq, double avgScale, double eps,
                                    const ca_step_scalars* s) {
  const double denom = sqrt(avgScale * (double)expAvgSq / s->bc2F64) + eps;
  return denom == 0.0 ? 0.0f : (float)(s->stepSizeF64 / denom);
}

CA_HD float ca_first_moment(float expAvg, float grad, const ca_step_scalars* s) {
  return s->beta1 * expAvg + s->oneMinusBeta1 * grad;
}

// One coupled element: decoupled decay, then the step with its column's shared factor.
CA_HD void ca_coupled_element(float* param, float* expAvg, float grad, float columnScale,
                              const ca_step_scalars* s) {
  const float m = ca_first_moment(*expAvg, grad, s);
  *expAvg = m;
  *param = *param * s->decay - columnScale * m;
}

// One AdamW element, in torch.optim.AdamW's order of operations.
CA_HD void ca_adamw_element(float* param, float* expAvg, float* expAvgSq, float grad,
                            const ca_step_scalars* s) {
  const float m = ca_first_moment(*expAvg, grad, s);
  const float v = s->beta2 * *expAvgSq + s->oneMinusBeta2 * grad * grad;
  const float denom = sqrtf(v) * s->invBc2Sqrt + s->eps;
  // Divide first, then select: the unconditional division lets compilers vectorize, and the
  // select discards the 0/0 of a zero denominator (there m is zero too).
  const float step = s->stepSize * m / denom;
  *expAvg = m;
  *expAvgSq = v;
  *param = *param * s->decay - (denom == 0.0f ? 0.0f : step);
}
