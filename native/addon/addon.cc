// Registers the addon's exports. `features` tells the loader what this build contains.
#include <napi.h>

#include "cpu_steps.h"
#ifdef COUPLED_ADAM_CUDA
#include "cuda_arrays.h"
#endif

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("coupledStep", Napi::Function::New(env, addon::CoupledStepCpu, "coupledStep"));
  exports.Set("adamStep", Napi::Function::New(env, addon::AdamStepCpu, "adamStep"));
  exports.Set("allFinite", Napi::Function::New(env, addon::AllFiniteCpu, "allFinite"));
  exports.Set("threads", Napi::Function::New(env, addon::Threads, "threads"));

  Napi::Object features = Napi::Object::New(env);
#ifdef _OPENMP
  features.Set("openmp", true);
#else
  features.Set("openmp", false);
#endif
#ifdef COUPLED_ADAM_CUDA
  // Compiled in; whether a device can run it is probe()'s answer, asked on first use.
  features.Set("cuda", true);
  Napi::Object cuda = Napi::Object::New(env);
  addon::InitCudaArrays(env, cuda);
  addon::InitCudaSteps(env, cuda);
  exports.Set("cuda", cuda);
#else
  features.Set("cuda", false);
#endif
  exports.Set("features", features);
  return exports;
}

}  // namespace

NODE_API_MODULE(coupled_adam, Init)
