// The CUDA step entry points of the addon. Each queues kernels on the addon's stream and
// returns; only a finiteness verdict (checkFinite) waits for the device, since the caller
// must know whether the step was applied. TypeScript validates first; these checks keep a
// direct call from crashing the process.
#include <string>
#include <vector>

#include "args.h"
#include "cuda_arrays.h"

namespace addon {

namespace {

// A device buffer argument holding at least `elements` of `elementBytes` each.
void* Device(Reader& in, size_t index, const char* name, int64_t elements, size_t elementBytes) {
  if (!in.ok) return nullptr;
  DeviceBuffer* b = DeviceBuffer::From(in.info[index]);
  if (!b) {
    in.fail_type(std::string("Expected a live DeviceBuffer for ") + name);
    return nullptr;
  }
  if ((size_t)elements * elementBytes > b->bytes()) {
    in.fail_range(std::string("Expected ") + std::to_string(elements) + " elements in " + name +
                  " but its buffer holds " + std::to_string(b->bytes()) + " bytes");
    return nullptr;
  }
  return b->data();
}

ca_dtype Dtype(Reader& in, size_t index) {
  const int64_t code = in.integer(index, "gradDtype", 0);
  if (in.ok && code != CA_FLOAT32 && code != CA_BFLOAT16) {
    in.fail_range("Expected gradDtype 0 or 1");
  }
  return (ca_dtype)code;
}

size_t Bytes(ca_dtype dtype) { return dtype == CA_BFLOAT16 ? 2 : 4; }

bool CheckCuda(Napi::Env env, cudaError_t error, const char* where) {
  if (error == cudaSuccess) return true;
  ThrowCuda(env, error, where);
  return false;
}

// The scratch flag, allocated once.
int* Flag(Napi::Env env) {
  Scratch& s = StepScratch(env);
  if (!s.flag) {
    void* p = nullptr;
    if (!CheckCuda(env, cudaMalloc(&p, sizeof(int)), "cudaMalloc (flag)")) return nullptr;
    s.flag = static_cast<int*>(p);
  }
  return s.flag;
}

// Waits for the stream and reads the flag: the only host-device round trip of a step.
bool ReadFlag(Napi::Env env, cudaStream_t stream, int* value) {
  return CheckCuda(env, cudaMemcpyAsync(value, Flag(env), sizeof(int), cudaMemcpyDeviceToHost,
                                        stream),
                   "cudaMemcpyAsync (flag)") &&
         CheckCuda(env, cudaStreamSynchronize(stream), "cudaStreamSynchronize");
}

// The coupled workspace for this shape: grown when too small (cudaFree waits for the device,
// so no queued step loses it), zeroed when the shape changes.
void* Workspace(Napi::Env env, cudaStream_t stream, int64_t rows, int64_t cols, int axis,
                size_t* bytes) {
  Scratch& s = StepScratch(env);
  const size_t need = ca_coupled_workspace_bytes(rows, cols, axis);
  if (need > s.bytes) {
    if (s.workspace) cudaFree(s.workspace);
    s.workspace = nullptr;
    s.bytes = 0;
    if (!CheckCuda(env, cudaMalloc(&s.workspace, need), "cudaMalloc (workspace)")) {
      s.workspace = nullptr;
      return nullptr;
    }
    s.bytes = need;
    s.vocabAxis = -1;
  }
  if (s.rows != rows || s.cols != cols || s.vocabAxis != axis) {
    if (!CheckCuda(env, cudaMemsetAsync(s.workspace, 0, s.bytes, stream), "cudaMemsetAsync")) {
      return nullptr;
    }
    s.rows = rows;
    s.cols = cols;
    s.vocabAxis = axis;
  }
  *bytes = s.bytes;
  return s.workspace;
}

// coupledStep(param, grad, expAvg, expAvgSq, rows, cols, vocabAxis, hyper, checkFinite,
//             gradDtype) -> applied (true without waiting when checkFinite is false)
Napi::Value CoupledStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Reader in{info};
  const int64_t rows = in.integer(4, "rows", 1);
  const int64_t cols = in.integer(5, "cols", 1);
  const int64_t axis = in.integer(6, "vocabAxis", 0);
  if (in.ok && axis > 1) in.fail_range("Expected vocabAxis 0 or 1");
  if (in.ok && rows > INT64_MAX / cols) in.fail_range("rows * cols overflows 64 bits");
  const ca_dtype dtype = Dtype(in, 9);
  const int64_t n = rows * cols;
  float* param = static_cast<float*>(Device(in, 0, "param", n, 4));
  const void* grad = Device(in, 1, "grad", n, Bytes(dtype));
  float* expAvg = static_cast<float*>(Device(in, 2, "expAvg", n, 4));
  float* expAvgSq = static_cast<float*>(Device(in, 3, "expAvgSq", cols, 4));
  const ca_hyper hyper = in.hyper(7, true);
  const bool checkFinite = in.flag(8);
  if (!in.ok) return env.Undefined();

  cudaStream_t stream = Stream(env);
  if (!stream) return env.Undefined();
  size_t bytes = 0;
  void* workspace = Workspace(env, stream, rows, cols, (int)axis, &bytes);
  int* flag = checkFinite ? Flag(env) : nullptr;
  if (!workspace || (checkFinite && !flag)) return env.Undefined();
  const ca_status st = ca_coupled_step_cuda(param, grad, dtype, expAvg, expAvgSq, rows, cols,
                                            (int)axis, &hyper, checkFinite, flag, workspace,
                                            bytes, stream);
  if (st != CA_OK) return ThrowStatus(env, st);
  if (!checkFinite) return Napi::Boolean::New(env, true);
  int skipped = 0;
  if (!ReadFlag(env, stream, &skipped)) return env.Undefined();
  return Napi::Boolean::New(env, skipped == 0);
}

// adamStep(param, grad, expAvg, expAvgSq, n, hyper, checkFinite, gradDtype) -> applied
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Reader in{info};
  const int64_t n = in.integer(4, "n", 1);
  const ca_dtype dtype = Dtype(in, 7);
  float* param = static_cast<float*>(Device(in, 0, "param", n, 4));
  const void* grad = Device(in, 1, "grad", n, Bytes(dtype));
  float* expAvg = static_cast<float*>(Device(in, 2, "expAvg", n, 4));
  float* expAvgSq = static_cast<float*>(Device(in, 3, "expAvgSq", n, 4));
  const ca_hyper hyper = in.hyper(5, false);
  const bool checkFinite = in.flag(6);
  if (!in.ok) return env.Undefined();

  cudaStream_t stream = Stream(env);
  if (!stream) return env.Undefined();
  int* flag = checkFinite ? Flag(env) : nullptr;
  if (checkFinite && !flag) return env.Undefined();
  const ca_status st = ca_adamw_step_cuda(param, grad, dtype, expAvg, expAvgSq, n, &hyper,
                                          checkFinite, flag, stream);
  if (st != CA_OK) return ThrowStatus(env, st);
  if (!checkFinite) return Napi::Boolean::New(env, true);
  int skipped = 0;
  if (!ReadFlag(env, stream, &skipped)) return env.Undefined();
  return Napi::Boolean::New(env, skipped == 0);
}

// adamMultiStep([[param, grad, expAvg, expAvgSq, n], ...], hyper, gradDtype): queued.
Napi::Value AdamMultiStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) {
    Napi::TypeError::New(env, "Expected an array of tensors").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Reader top{info};
  const ca_hyper hyper = top.hyper(1, false);
  const ca_dtype dtype = Dtype(top, 2);
  if (!top.ok) return env.Undefined();
  Napi::Array list = info[0].As<Napi::Array>();
  std::vector<ca_adamw_tensor> tensors;
  for (uint32_t i = 0; i < list.Length(); ++i) {
    Napi::Value item = list.Get(i);
    if (!item.IsArray() || item.As<Napi::Array>().Length() != 5) {
      Napi::TypeError::New(env, "Expected [param, grad, expAvg, expAvgSq, n] for tensor " +
                                    std::to_string(i))
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Array t = item.As<Napi::Array>();
    const double n = t.Get(4u).IsNumber() ? t.Get(4u).As<Napi::Number>().DoubleValue() : 0;
    if (!(n >= 1 && n <= 9007199254740991.0) || n != (double)(int64_t)n) {
      Napi::RangeError::New(env, "Expected an integer n >= 1 for tensor " + std::to_string(i))
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    ca_adamw_tensor d{};
    d.n = (int64_t)n;
    DeviceBuffer* b[4];
    const size_t size[4] = {4, Bytes(dtype), 4, 4};
    for (uint32_t k = 0; k < 4; ++k) {
      b[k] = DeviceBuffer::From(t.Get(k));
      if (!b[k] || b[k]->bytes() < (size_t)d.n * size[k]) {
        Napi::TypeError::New(env, "Expected live DeviceBuffers of n elements for tensor " +
                                      std::to_string(i))
            .ThrowAsJavaScriptException();
        return env.Undefined();
      }
    }
    d.param = static_cast<float*>(b[0]->data());
    d.grad = b[1]->data();
    d.exp_avg = static_cast<float*>(b[2]->data());
    d.exp_avg_sq = static_cast<float*>(b[3]->data());
    tensors.push_back(d);
  }
  if (tensors.empty()) return env.Undefined();
  cudaStream_t stream = Stream(env);
  if (!stream) return env.Undefined();
  const ca_status st = ca_adamw_multi_step_cuda(tensors.data(), (int64_t)tensors.size(), dtype,
                                                &hyper, nullptr, stream);
  if (st != CA_OK) return ThrowStatus(env, st);
  return env.Undefined();
}

// allFinite([[buffer, n, dtype], ...]) -> every element of every buffer is finite (waits).
Napi::Value AllFinite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) {
    Napi::TypeError::New(env, "Expected an array of buffers").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  cudaStream_t stream = Stream(env);
  int* flag = stream ? Flag(env) : nullptr;
  if (!flag) return env.Undefined();
  if (!CheckCuda(env, cudaMemsetAsync(flag, 0, sizeof(int), stream), "cudaMemsetAsync")) {
    return env.Undefined();
  }
  Napi::Array list = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); ++i) {
    Napi::Value item = list.Get(i);
    Napi::Array t = item.IsArray() ? item.As<Napi::Array>() : Napi::Array::New(env);
    DeviceBuffer* b = t.Length() == 3 ? DeviceBuffer::From(t.Get(0u)) : nullptr;
    const double n = b && t.Get(1u).IsNumber() ? t.Get(1u).As<Napi::Number>().DoubleValue() : 0;
    const double code = b && t.Get(2u).IsNumber() ? t.Get(2u).As<Napi::Number>().DoubleValue() : -1;
    const ca_dtype dtype = code == 1 ? CA_BFLOAT16 : CA_FLOAT32;
    if (!b || !(n >= 1) || n != (double)(int64_t)n || (code != 0 && code != 1) ||
        b->bytes() < (size_t)n * Bytes(dtype)) {
      Napi::TypeError::New(env, "Expected [DeviceBuffer, n, dtype] for buffer " +
                                    std::to_string(i))
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const ca_status st = ca_all_finite_cuda(b->data(), dtype, (int64_t)n, flag, stream);
    if (st != CA_OK) return ThrowStatus(env, st);
  }
  int nonFinite = 0;
  if (!ReadFlag(env, stream, &nonFinite)) return env.Undefined();
  return Napi::Boolean::New(env, nonFinite == 0);
}

}  // namespace

void InitCudaSteps(Napi::Env env, Napi::Object cuda) {
  cuda.Set("coupledStep", Napi::Function::New(env, CoupledStep, "coupledStep"));
  cuda.Set("adamStep", Napi::Function::New(env, AdamStep, "adamStep"));
  cuda.Set("adamMultiStep", Napi::Function::New(env, AdamMultiStep, "adamMultiStep"));
  cuda.Set("allFinite", Napi::Function::New(env, AllFinite, "allFinite"));
}

}  // namespace addon
