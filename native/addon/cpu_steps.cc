// The CPU entry points of the addon: coupledStep, adamStep, allFinite, threads. Each is
// synchronous: the kernels finish before the call returns, so no buffer outlives its call.
#include "cpu_steps.h"

#include "args.h"

namespace addon {

// coupledStep(param, grad, expAvg, expAvgSq, rows, cols, vocabAxis, hyper, checkFinite)
Napi::Value CoupledStepCpu(const Napi::CallbackInfo& info) {
  Reader in{info};
  const int64_t rows = in.integer(4, "rows", 1);
  const int64_t cols = in.integer(5, "cols", 1);
  const int64_t vocabAxis = in.integer(6, "vocabAxis", 0);
  if (in.ok && rows > INT64_MAX / cols) in.fail_range("rows * cols overflows 64 bits");
  const int64_t n = in.ok ? rows * cols : 0;  // (signed overflow is undefined: multiply once ok)
  float* param = in.floats(0, "param", n);
  float* grad = in.floats(1, "grad", n);
  float* expAvg = in.floats(2, "expAvg", n);
  float* expAvgSq = in.floats(3, "expAvgSq", cols);
  in.disjoint({{"param", param, n}, {"grad", grad, n}, {"expAvg", expAvg, n},
               {"expAvgSq", expAvgSq, cols}});
  const ca_hyper hyper = in.hyper(7, true);
  const bool checkFinite = in.flag(8);
  if (!in.ok) return info.Env().Undefined();
  return result(info.Env(), ca_coupled_step_cpu(param, grad, expAvg, expAvgSq, rows, cols,
                                                (int)vocabAxis, &hyper, checkFinite));
}

// adamStep(param, grad, expAvg, expAvgSq, hyper, checkFinite)
Napi::Value AdamStepCpu(const Napi::CallbackInfo& info) {
  Reader in{info};
  float* param = in.floats(0, "param", -1);
  const int64_t n = in.ok ? (int64_t)info[0].As<Napi::Float32Array>().ElementLength() : 0;
  float* grad = in.floats(1, "grad", n);
  float* expAvg = in.floats(2, "expAvg", n);
  float* expAvgSq = in.floats(3, "expAvgSq", n);
  in.disjoint({{"param", param, n}, {"grad", grad, n}, {"expAvg", expAvg, n},
               {"expAvgSq", expAvgSq, n}});
  const ca_hyper hyper = in.hyper(4, false);
  const bool checkFinite = in.flag(5);
  if (!in.ok) return info.Env().Undefined();
  return result(info.Env(),
                ca_adamw_step_cpu(param, grad, expAvg, expAvgSq, n, &hyper, checkFinite));
}

// allFinite(x)
Napi::Value AllFiniteCpu(const Napi::CallbackInfo& info) {
  Reader in{info};
  float* x = in.floats(0, "x", -1);
  if (!in.ok) return info.Env().Undefined();
  const int64_t n = (int64_t)info[0].As<Napi::Float32Array>().ElementLength();
  return Napi::Boolean::New(info.Env(), ca_all_finite_cpu(x, n) != 0);
}

// threads() or threads(n): reads, or sets then reads, the CPU kernels' thread count.
Napi::Value Threads(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    Reader in{info};
    const int64_t threads = in.integer(0, "threads", 1);
    if (!in.ok) return info.Env().Undefined();
    ca_set_num_threads((int)threads);
  }
  return Napi::Number::New(info.Env(), ca_get_num_threads());
}

}  // namespace addon
