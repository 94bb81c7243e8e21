#pragma once

#include <napi.h>

namespace addon {

Napi::Value CoupledStepCpu(const Napi::CallbackInfo& info);
Napi::Value AdamStepCpu(const Napi::CallbackInfo& info);
Napi::Value AllFiniteCpu(const Napi::CallbackInfo& info);
Napi::Value Threads(const Napi::CallbackInfo& info);

}  // namespace addon
