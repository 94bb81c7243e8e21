// Device memory for the addon's CUDA entry points: a JS-owned buffer (freed by dispose() or,
// if forgotten, by the garbage collector's finalizer), the addon's one stream, and the
// conversion of every CUDA failure into a JS exception that carries the error's name.
#pragma once

#include <cuda_runtime_api.h>
#include <napi.h>
#include <stddef.h>

#include "../../include/coupled_adam.h"

namespace addon {

class DeviceBuffer : public Napi::ObjectWrap<DeviceBuffer> {
 public:
  static Napi::Function Define(Napi::Env env);
  static DeviceBuffer* From(const Napi::Value& value);  // nullptr unless a live DeviceBuffer

  explicit DeviceBuffer(const Napi::CallbackInfo& info);
  ~DeviceBuffer() override;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  Napi::Value Bytes(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  void Release();

  void* data_ = nullptr;
  size_t bytes_ = 0;
};

// Throws `error` as a JS Error whose message starts with the CUDA error's name and whose
// `code` is that name. Always returns an empty value to return at once.
Napi::Value ThrowCuda(Napi::Env env, cudaError_t error, const char* where);

// Throws the C library's last error for `status` (CA_ERR_CUDA keeps the CUDA error's name).
Napi::Value ThrowStatus(Napi::Env env, ca_status status);

// The addon's stream, created on first use; nullptr with an exception pending on failure.
cudaStream_t Stream(Napi::Env env);

// Device scratch of the step entry points, reused call after call on the one stream: the
// coupled step's workspace (grown on demand, zeroed again when the shape changes, since the
// kernels leave only their own shape's counters zeroed) and an int for skip verdicts.
struct Scratch {
  void* workspace = nullptr;
  size_t bytes = 0;
  int64_t rows = 0, cols = 0;
  int vocabAxis = -1;
  int* flag = nullptr;
};
Scratch& StepScratch(Napi::Env env);

// Registers the CUDA entry points on `cuda`.
void InitCudaArrays(Napi::Env env, Napi::Object cuda);
void InitCudaSteps(Napi::Env env, Napi::Object cuda);

}  // namespace addon
