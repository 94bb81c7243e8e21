// Host side of the CUDA build: error recording with the CUDA error's name, and the device
// query that tells the bindings whether the kernels can run here.
#include <stdio.h>

#include "../cpu/cpu_internal.h"
#include "cuda_internal.cuh"

namespace {
thread_local char g_error_name[64] = "";
}  // namespace

namespace ca_cuda {

// The message goes through ca::invalid, the one writer of ca_last_error()'s buffer; the
// status it returns is replaced by CA_ERR_CUDA.
ca_status fail(cudaError_t error, const char* where) {
  snprintf(g_error_name, sizeof g_error_name, "%s", cudaGetErrorName(error));
  ca::invalid("%s: %s (in %s)", cudaGetErrorName(error), cudaGetErrorString(error), where);
  return CA_ERR_CUDA;
}

}  // namespace ca_cuda

extern "C" {

int ca_cuda_compiled(void) { return 1; }

const char* ca_cuda_last_error_name(void) { return g_error_name; }

ca_status ca_cuda_device_count(int* count) {
  if (!count) return ca::invalid("count must not be NULL");
  *count = 0;
  const cudaError_t e = cudaGetDeviceCount(count);
  if (e != cudaSuccess) {
    *count = 0;
    return ca_cuda::fail(e, "cudaGetDeviceCount");
  }
  return CA_OK;
}

}  // extern "C"
