// Host side of the coupled step: checks, the per-step scalars (bias corrections computed once
// here, in double), and the two launches: coupled_reduce.cu then coupled_update.cu. Together
// they move 24 bytes per element (grad twice, param and expAvg read and written).
#include "../cpu/cpu_internal.h"
#include "cuda_internal.cuh"

extern "C" size_t ca_coupled_workspace_bytes(int64_t rows, int64_t cols, int vocabAxis) {
  if (rows < 1 || cols < 1 || (vocabAxis != 0 && vocabAxis != 1)) return 0;
  return ca_cuda::coupled_workspace_bytes(ca_cuda::coupled_plan(rows, cols, vocabAxis), cols);
}

extern "C" ca_status ca_coupled_step_cuda(float* param, const void* grad, ca_dtype gradDtype,
                                          float* expAvg, float* expAvgSq, int64_t rows,
                                          int64_t cols, int vocabAxis, const ca_hyper* hyper,
                                          int checkFinite, int* skipped, void* workspace,
                                          size_t workspaceBytes, struct CUstream_st* stream) {
  using namespace ca_cuda;
  if (ca_status st = ca::check_coupled_shape(param, grad, expAvg, expAvgSq, rows, cols,
                                             vocabAxis)) {
    return st;
  }
  if (gradDtype != CA_FLOAT32 && gradDtype != CA_BFLOAT16) {
    return ca::invalid("grad_dtype must be CA_FLOAT32 or CA_BFLOAT16");
  }
  const CoupledPlan plan = coupled_plan(rows, cols, vocabAxis);
  const size_t need = coupled_workspace_bytes(plan, cols);
  if (!workspace || workspaceBytes < need) {
    return ca::invalid("workspace needs %zu bytes, got %zu", need, workspace ? workspaceBytes : 0);
  }
  if (ca_status st = ca::check_hyper(hyper, true)) return st;

  const ca_step_scalars s = ca_make_step_scalars(hyper->lr, hyper->beta1, hyper->beta2,
                                                 hyper->eps, hyper->weight_decay, hyper->step);
  const CoupledWorkspace ws = coupled_workspace(workspace, plan, cols);
  cudaError_t e = launch_coupled_reduce(grad, gradDtype, expAvgSq, rows, cols, vocabAxis, plan,
                                        ws, *hyper, s, checkFinite != 0, skipped, stream);
  if (e != cudaSuccess) return fail(e, "the coupled reduction kernel launch");
  e = launch_coupled_update(param, grad, gradDtype, expAvg, rows, cols, vocabAxis, ws, s, stream);
  if (e != cudaSuccess) return fail(e, "the coupled update kernel launch");
  return CA_OK;
}
