#pragma once

#include <napi.h>

namespace addon {

Napi::Value Triad(const Napi::CallbackInfo& info);

}  // namespace addon
