// The CUDA entry points of a build made without nvcc: each says so with CA_ERR_NOT_COMPILED,
// so that one header and one library serve CPU-only and CUDA builds alike.
#include "../cpu/cpu_internal.h"

static ca_status not_compiled() {
  ca::invalid("this build of coupled-adam has no CUDA kernels (nvcc was not found by CMake)");
  return CA_ERR_NOT_COMPILED;
}

extern "C" {

int ca_cuda_compiled(void) { return 0; }
const char* ca_cuda_last_error_name(void) { return ""; }
ca_status ca_cuda_device_count(int* count) {
  if (count) *count = 0;
  return not_compiled();
}
size_t ca_coupled_workspace_bytes(int64_t, int64_t, int) { return 0; }
ca_status ca_coupled_step_cuda(float*, const void*, ca_dtype, float*, float*, int64_t, int64_t,
                               int, const ca_hyper*, int, int*, void*, size_t,
                               struct CUstream_st*) {
  return not_compiled();
}
ca_status ca_adamw_step_cuda(float*, const void*, ca_dtype, float*, float*, int64_t,
                             const ca_hyper*, int, int*, struct CUstream_st*) {
  return not_compiled();
}
ca_status ca_adamw_multi_step_cuda(const ca_adamw_tensor*, int64_t, ca_dtype, const ca_hyper*,
                                   const int*, struct CUstream_st*) {
  return not_compiled();
}
ca_status ca_all_finite_cuda(const void*, ca_dtype, int64_t, int*, struct CUstream_st*) {
  return not_compiled();
}

}  // extern "C"
