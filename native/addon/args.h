// Argument readers for the addon's entry points. TypeScript validates every call first (with
// the messages users see); these checks keep the native layer safe when called directly, and
// report through JS exceptions: a failed read leaves `ok` false and an exception pending.
#pragma once

#include <napi.h>
#include <stdint.h>

#include <initializer_list>
#include <string>

#include "../../include/coupled_adam.h"

namespace addon {

struct Reader {
  const Napi::CallbackInfo& info;
  bool ok = true;

  // A getter or Proxy trap that threw has left its exception pending: throwing a second one
  // would be a fatal error in N-API, so the pending one is what the caller sees.
  bool pending() { return info.Env().IsExceptionPending(); }

  void fail_type(const std::string& message) {
    if (ok && !pending()) Napi::TypeError::New(info.Env(), message).ThrowAsJavaScriptException();
    ok = false;
  }
  void fail_range(const std::string& message) {
    if (ok && !pending()) Napi::RangeError::New(info.Env(), message).ThrowAsJavaScriptException();
    ok = false;
  }

  // A Float32Array argument with exactly `length` elements (length < 0: any).
  float* floats(size_t index, const char* name, int64_t length) {
    if (!ok) return nullptr;
    if (!info[index].IsTypedArray() ||
        info[index].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      fail_type(std::string("Expected a Float32Array for ") + name);
      return nullptr;
    }
    Napi::Float32Array array = info[index].As<Napi::Float32Array>();
    if (length >= 0 && (int64_t)array.ElementLength() != length) {
      fail_range(std::string("Expected ") + std::to_string(length) + " elements in " + name +
                 " but received " + std::to_string(array.ElementLength()));
      return nullptr;
    }
    return array.Data();
  }

  int64_t integer(size_t index, const char* name, int64_t least) {
    if (!ok) return 0;
    if (!info[index].IsNumber()) {
      fail_type(std::string("Expected a number for ") + name);
      return 0;
    }
    const double value = info[index].As<Napi::Number>().DoubleValue();
    if (!(value >= (double)least && value <= 9007199254740991.0) || value != (int64_t)value) {
      fail_range(std::string("Expected an integer >= ") + std::to_string(least) + " for " + name);
      return 0;
    }
    return (int64_t)value;
  }

  double number_field(const Napi::Object& object, const char* name) {
    if (!ok) return 0;
    Napi::Value value = object.Get(name);
    if (pending()) {
      ok = false;
      return 0;
    }
    if (!value.IsNumber()) {
      fail_type(std::string("Expected a number for hyper.") + name);
      return 0;
    }
    return value.As<Napi::Number>().DoubleValue();
  }

  // { lr, beta1, beta2, eps, weightDecay, avgScale?, step }
  ca_hyper hyper(size_t index, bool coupled) {
    ca_hyper h{};
    if (!ok) return h;
    if (!info[index].IsObject()) {
      fail_type("Expected an object for hyper");
      return h;
    }
    Napi::Object o = info[index].As<Napi::Object>();
    h.lr = number_field(o, "lr");
    h.beta1 = number_field(o, "beta1");
    h.beta2 = number_field(o, "beta2");
    h.eps = number_field(o, "eps");
    h.weight_decay = number_field(o, "weightDecay");
    h.avg_scale = coupled ? number_field(o, "avgScale") : 1.0;
    const double step = number_field(o, "step");
    // Casting a NaN, fractional or out-of-range double to int64 is undefined, so those are
    // caught here; a whole step below 1 is left to the kernels' own check and message.
    const double most = 9007199254740991.0;
    if (ok && !(step >= -most && step <= most && step == (double)(int64_t)step)) {
      fail_range("Expected an integer >= 1 for hyper.step");
    }
    h.step = ok ? (int64_t)step : 0;
    return h;
  }

  // Rejects two tensors whose bytes overlap: the kernels take them __restrict. TypeScript
  // compares views of one ArrayBuffer; only here are two SharedArrayBuffer objects over the
  // same memory (a structuredClone of one, or one posted back from a worker) seen as one.
  struct Span {
    const char* name;
    const float* data;
    int64_t length;
  };
  void disjoint(std::initializer_list<Span> spans) {
    if (!ok) return;
    for (const Span* a = spans.begin(); a != spans.end(); ++a) {
      for (const Span* b = a + 1; b != spans.end(); ++b) {
        const uintptr_t a0 = (uintptr_t)a->data, a1 = a0 + (uintptr_t)a->length * 4;
        const uintptr_t b0 = (uintptr_t)b->data, b1 = b0 + (uintptr_t)b->length * 4;
        if (a0 < b1 && b0 < a1) {
          fail_range(std::string("Expected memory separate from ") + a->name + " for " + b->name);
          return;
        }
      }
    }
  }

  bool flag(size_t index) { return ok && info[index].ToBoolean().Value(); }
};

// Turns a kernel's status into the step's result (true: applied, false: skipped for a
// non-finite gradient) or a pending JS exception.
inline Napi::Value result(Napi::Env env, ca_status status) {
  if (status == CA_OK) return Napi::Boolean::New(env, true);
  if (status == CA_SKIPPED_NON_FINITE) return Napi::Boolean::New(env, false);
  const std::string detail = ca_last_error();
  Napi::RangeError::New(env, std::string(ca_status_string(status)) +
                                 (detail.empty() ? "" : ": " + detail))
      .ThrowAsJavaScriptException();
  return env.Undefined();
}

}  // namespace addon
