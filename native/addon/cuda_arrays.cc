// Device buffers, copies, the stream and the device probe for the addon's `cuda` object.
// Copies between host and device synchronize before they return, so no JS buffer is read
// or written after the call that names it; kernels on device buffers run asynchronously.
#include "cuda_arrays.h"

#include <string>

namespace addon {

namespace {

struct CudaState {
  Napi::FunctionReference deviceBuffer;
  cudaStream_t stream = nullptr;
  Scratch scratch;
};

CudaState& State(Napi::Env env) { return *env.GetInstanceData<CudaState>(); }

bool Check(Napi::Env env, cudaError_t error, const char* where) {
  if (error == cudaSuccess) return true;
  ThrowCuda(env, error, where);
  return false;
}

// (deviceBuffer, typedArray, byteOffset): the typed array's bytes and where they go.
struct HostCopy {
  DeviceBuffer* buffer = nullptr;
  void* host = nullptr;
  size_t bytes = 0;
  size_t offset = 0;
};

bool ReadCopy(const Napi::CallbackInfo& info, HostCopy& c) {
  Napi::Env env = info.Env();
  c.buffer = DeviceBuffer::From(info[0]);
  if (!c.buffer) {
    Napi::TypeError::New(env, "Expected a live DeviceBuffer").ThrowAsJavaScriptException();
    return false;
  }
  if (!info[1].IsTypedArray()) {
    Napi::TypeError::New(env, "Expected a typed array").ThrowAsJavaScriptException();
    return false;
  }
  Napi::TypedArray array = info[1].As<Napi::TypedArray>();
  c.host = static_cast<char*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  c.bytes = array.ByteLength();
  const double offset = info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : 0;
  if (!(offset >= 0) || offset != (double)(size_t)offset ||
      (size_t)offset + c.bytes > c.buffer->bytes()) {
    Napi::RangeError::New(env, "The copy does not fit in the device buffer")
        .ThrowAsJavaScriptException();
    return false;
  }
  c.offset = (size_t)offset;
  return true;
}

// probe() -> { count, error?, message? }: never throws, so that backends() can report.
Napi::Value Probe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  int count = 0;
  if (ca_cuda_device_count(&count) != CA_OK) {
    result.Set("count", 0);
    result.Set("error", ca_cuda_last_error_name());
    result.Set("message", ca_last_error());
    return result;
  }
  result.Set("count", count);
  if (count > 0) {
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) {
      result.Set("name", prop.name);
      result.Set("computeCapability", std::to_string(prop.major) + "." +
                                          std::to_string(prop.minor));
      result.Set("memoryBytes", (double)prop.totalGlobalMem);
    }
  }
  return result;
}

// alloc(bytes) -> DeviceBuffer, zero-filled.
Napi::Value Alloc(const Napi::CallbackInfo& info) {
  return State(info.Env()).deviceBuffer.New({info[0]});
}

// upload(buffer, typedArray, byteOffset): host to device, complete on return.
Napi::Value Upload(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HostCopy c;
  if (!ReadCopy(info, c)) return env.Undefined();
  cudaStream_t stream = Stream(env);
  if (!stream) return env.Undefined();
  char* dst = static_cast<char*>(c.buffer->data()) + c.offset;
  if (!Check(env, cudaMemcpyAsync(dst, c.host, c.bytes, cudaMemcpyHostToDevice, stream),
             "cudaMemcpyAsync (host to device)") ||
      !Check(env, cudaStreamSynchronize(stream), "cudaStreamSynchronize after an upload")) {
    return env.Undefined();
  }
  return env.Undefined();
}

// download(buffer, typedArray, byteOffset): device to host after all queued work.
Napi::Value Download(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HostCopy c;
  if (!ReadCopy(info, c)) return env.Undefined();
  cudaStream_t stream = Stream(env);
  if (!stream) return env.Undefined();
  const char* src = static_cast<const char*>(c.buffer->data()) + c.offset;
  if (!Check(env, cudaMemcpyAsync(c.host, src, c.bytes, cudaMemcpyDeviceToHost, stream),
             "cudaMemcpyAsync (device to host)") ||
      !Check(env, cudaStreamSynchronize(stream), "cudaStreamSynchronize after a download")) {
    return env.Undefined();
  }
  return env.Undefined();
}

// fill0(buffer): zero-fills the whole buffer, queued on the stream.
Napi::Value Fill0(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DeviceBuffer* b = DeviceBuffer::From(info[0]);
  if (!b) {
    Napi::TypeError::New(env, "Expected a live DeviceBuffer").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  cudaStream_t stream = Stream(env);
  if (!stream) return env.Undefined();
  Check(env, cudaMemsetAsync(b->data(), 0, b->bytes(), stream), "cudaMemsetAsync");
  return env.Undefined();
}

// copy(dst, src): device to device, whole buffers of equal size, queued on the stream.
Napi::Value Copy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DeviceBuffer* dst = DeviceBuffer::From(info[0]);
  DeviceBuffer* src = DeviceBuffer::From(info[1]);
  if (!dst || !src || dst->bytes() != src->bytes()) {
    Napi::TypeError::New(env, "Expected two live DeviceBuffers of the same size")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  cudaStream_t stream = Stream(env);
  if (!stream) return env.Undefined();
  Check(env, cudaMemcpyAsync(dst->data(), src->data(), src->bytes(), cudaMemcpyDeviceToDevice,
                             stream),
        "cudaMemcpyAsync (device to device)");
  return env.Undefined();
}

// synchronize(): waits for every queued launch; a kernel's failure surfaces here.
Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  cudaStream_t stream = Stream(env);
  if (stream) Check(env, cudaStreamSynchronize(stream), "cudaStreamSynchronize");
  return env.Undefined();
}

}  // namespace

Napi::Value ThrowCuda(Napi::Env env, cudaError_t error, const char* where) {
  Napi::Error e = Napi::Error::New(env, std::string(cudaGetErrorName(error)) + ": " +
                                            cudaGetErrorString(error) + " (in " + where + ")");
  e.Set("code", cudaGetErrorName(error));
  e.ThrowAsJavaScriptException();
  return Napi::Value();
}

Napi::Value ThrowStatus(Napi::Env env, ca_status status) {
  const std::string detail = ca_last_error();
  const std::string message =
      std::string(ca_status_string(status)) + (detail.empty() ? "" : ": " + detail);
  if (status == CA_ERR_CUDA) {
    Napi::Error e = Napi::Error::New(env, detail.empty() ? message : detail);
    e.Set("code", ca_cuda_last_error_name());
    e.ThrowAsJavaScriptException();
  } else {
    Napi::RangeError::New(env, message).ThrowAsJavaScriptException();
  }
  return Napi::Value();
}

cudaStream_t Stream(Napi::Env env) {
  CudaState& state = State(env);
  if (!state.stream &&
      !Check(env, cudaStreamCreateWithFlags(&state.stream, cudaStreamNonBlocking),
             "cudaStreamCreateWithFlags")) {
    state.stream = nullptr;
  }
  return state.stream;
}

Scratch& StepScratch(Napi::Env env) { return State(env).scratch; }

// ---- DeviceBuffer ----

Napi::Function DeviceBuffer::Define(Napi::Env env) {
  return DefineClass(env, "DeviceBuffer",
                     {InstanceAccessor<&DeviceBuffer::Bytes>("bytes"),
                      InstanceMethod<&DeviceBuffer::Dispose>("dispose")});
}

DeviceBuffer* DeviceBuffer::From(const Napi::Value& value) {
  if (!value.IsObject()) return nullptr;
  Napi::Object object = value.As<Napi::Object>();
  const bool isBuffer = object.InstanceOf(State(value.Env()).deviceBuffer.Value());
  // A Proxy's getPrototypeOf trap may throw: such a value is no DeviceBuffer, and the caller
  // says so in its TypeError (a second throw over a pending exception is fatal in N-API).
  if (value.Env().IsExceptionPending()) {
    value.Env().GetAndClearPendingException();
    return nullptr;
  }
  if (!isBuffer) return nullptr;
  DeviceBuffer* b = Unwrap(object);
  return b && b->data_ ? b : nullptr;
}

DeviceBuffer::DeviceBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeviceBuffer>(info) {
  Napi::Env env = info.Env();
  const double bytes = info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
  if (!(bytes >= 1 && bytes <= 9007199254740991.0) || bytes != (double)(size_t)bytes) {
    Napi::RangeError::New(env, "Expected a whole number of bytes >= 1")
        .ThrowAsJavaScriptException();
    return;
  }
  cudaStream_t stream = Stream(env);
  if (!stream) return;
  void* data = nullptr;
  if (!Check(env, cudaMalloc(&data, (size_t)bytes), "cudaMalloc")) return;
  // Zeroed before anyone can use it: a fresh moment is zero, and so is a workspace.
  if (!Check(env, cudaMemsetAsync(data, 0, (size_t)bytes, stream), "cudaMemsetAsync")) {
    cudaFree(data);
    return;
  }
  data_ = data;
  bytes_ = (size_t)bytes;
  Napi::MemoryManagement::AdjustExternalMemory(env, (int64_t)bytes_);
}

DeviceBuffer::~DeviceBuffer() { Release(); }

// cudaFree waits for the device to finish its work, so a buffer that queued kernels still
// use is not freed under them.
void DeviceBuffer::Release() {
  if (!data_) return;
  cudaFree(data_);
  Napi::MemoryManagement::AdjustExternalMemory(Env(), -(int64_t)bytes_);
  data_ = nullptr;
  bytes_ = 0;
}

Napi::Value DeviceBuffer::Bytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), (double)bytes_);
}

Napi::Value DeviceBuffer::Dispose(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

void InitCudaArrays(Napi::Env env, Napi::Object cuda) {
  CudaState* state = new CudaState();
  Napi::Function ctor = DeviceBuffer::Define(env);
  state->deviceBuffer = Napi::Persistent(ctor);
  env.SetInstanceData(state);
  cuda.Set("DeviceBuffer", ctor);
  cuda.Set("probe", Napi::Function::New(env, Probe, "probe"));
  cuda.Set("alloc", Napi::Function::New(env, Alloc, "alloc"));
  cuda.Set("upload", Napi::Function::New(env, Upload, "upload"));
  cuda.Set("download", Napi::Function::New(env, Download, "download"));
  cuda.Set("fill0", Napi::Function::New(env, Fill0, "fill0"));
  cuda.Set("copy", Napi::Function::New(env, Copy, "copy"));
  cuda.Set("synchronize", Napi::Function::New(env, Synchronize, "synchronize"));
}

}  // namespace addon
