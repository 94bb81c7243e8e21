/* coupled_adam.h: the plain C API of the coupled-adam kernels, for frameworks other than
 * Node (a PyTorch or JAX extension, a C++ trainer). All sizes and offsets are 64-bit.
 *
 * Tensors are float32 and contiguous. A coupled (embedding) matrix has `rows` vocabulary
 * entries of `cols` hidden units; vocab_axis 0 means it is stored [rows, cols] (row-major,
 * nanoGPT's wte.weight), 1 means it is stored [cols, rows]. Its exp_avg_sq holds `cols`
 * floats: the vocabulary-averaged second moment. The update is stated in COUPLED_ADAM.md.
 */
#ifndef COUPLED_ADAM_H
#define COUPLED_ADAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(COUPLED_ADAM_BUILD_SHARED)
#define CA_API __declspec(dllexport)
#else
#define CA_API __attribute__((visibility("default")))
#endif

typedef enum ca_status {
  CA_OK = 0,
  CA_SKIPPED_NON_FINITE = 1, /* a gradient was NaN or infinite: nothing was modified */
  CA_ERR_INVALID_ARGUMENT = 2,
  CA_ERR_CUDA = 3,
  CA_ERR_NOT_COMPILED = 4
} ca_status;

typedef struct ca_hyper {
  double lr;
  double beta1;
  double beta2;
  double eps;
  double weight_decay;
  double avg_scale;  /* coupled step only: scale inside the square root; 1 is the default */
  int64_t step;      /* 1-based index of this update */
} ca_hyper;

/* A static, human-readable description of a status code. */
CA_API const char* ca_status_string(ca_status status);

/* The last invalid-argument message of this thread, or "" if none. */
CA_API const char* ca_last_error(void);

/* ---- CPU kernels (host pointers), multi-threaded with OpenMP where it was built in ---- */

/* One Coupled Adam step in place. When check_finite is nonzero and any gradient is NaN or
 * infinite, returns CA_SKIPPED_NON_FINITE and leaves every buffer unchanged. */
CA_API ca_status ca_coupled_step_cpu(float* param, const float* grad, float* exp_avg,
                                     float* exp_avg_sq, int64_t rows, int64_t cols,
                                     int vocab_axis, const ca_hyper* hyper, int check_finite);

/* One AdamW step in place over n elements (torch.optim.AdamW semantics). */
CA_API ca_status ca_adamw_step_cpu(float* param, const float* grad, float* exp_avg,
                                   float* exp_avg_sq, int64_t n, const ca_hyper* hyper,
                                   int check_finite);

/* 1 if every element is finite, else 0. */
CA_API int ca_all_finite_cpu(const float* x, int64_t n);

/* Threads the CPU kernels use (default: OpenMP's default, usually one per core). */
CA_API void ca_set_num_threads(int threads);
CA_API int ca_get_num_threads(void);

/* ---- CUDA kernels (device pointers), asynchronous on a stream ----
 *
 * Present in every build of the library; where it was built without nvcc each returns
 * CA_ERR_NOT_COMPILED. A CUDA failure returns CA_ERR_CUDA, and ca_last_error() then starts
 * with the CUDA error's name ("cudaErrorInsufficientDriver: ..."), which
 * ca_cuda_last_error_name() also gives alone. Launch errors are reported by the call;
 * errors while the kernels run surface at the next synchronizing call, as usual in CUDA.
 *
 * `stream` is a cudaStream_t (CUDA defines it as struct CUstream_st*): pass yours without a
 * cast, or NULL for the legacy default stream. It is spelt out here so that this header
 * needs no CUDA headers. param, exp_avg and exp_avg_sq are float32; grad is float32 or
 * bfloat16 (grad_dtype). Buffers aligned to 16 bytes (8 for bfloat16 grads) get vector
 * loads; others work, with scalar loads. */

struct CUstream_st;

typedef enum ca_dtype {
  CA_FLOAT32 = 0,
  CA_BFLOAT16 = 1
} ca_dtype;

/* 1 if this library contains the CUDA kernels, else 0. */
CA_API int ca_cuda_compiled(void);

/* Number of CUDA devices. Without a driver this fails with CA_ERR_CUDA and the error's
 * name, e.g. cudaErrorInsufficientDriver or cudaErrorNoDevice. */
CA_API ca_status ca_cuda_device_count(int* count);

/* The name of the last CUDA error this thread saw ("" if none). */
CA_API const char* ca_cuda_last_error_name(void);

/* Device bytes of the workspace ca_coupled_step_cuda needs for this shape. */
CA_API size_t ca_coupled_workspace_bytes(int64_t rows, int64_t cols, int vocab_axis);

/* One Coupled Adam step in place, in two kernel launches on `stream`: a vocabulary reduction
 * of grad^2 per hidden unit (fixed order, double accumulators: bitwise identical run to run
 * for a given shape), then one fused update of param and exp_avg.
 * workspace: device memory of ca_coupled_workspace_bytes() bytes, zero-filled when
 * allocated; the kernels leave it ready for the next step of the same rows, cols and
 * vocab_axis (zero-fill it again before using it for another shape). One step at a time.
 * check_finite: when a gradient is NaN or infinite, nothing is modified.
 * skipped: NULL, or a device int that receives 1 if the step was skipped, else 0. */
CA_API ca_status ca_coupled_step_cuda(float* param, const void* grad, ca_dtype grad_dtype,
                                      float* exp_avg, float* exp_avg_sq, int64_t rows,
                                      int64_t cols, int vocab_axis, const ca_hyper* hyper,
                                      int check_finite, int* skipped, void* workspace,
                                      size_t workspace_bytes, struct CUstream_st* stream);

/* One fused AdamW step in place over n elements (torch.optim.AdamW semantics). With
 * check_finite, `skipped` (a device int, then required) receives 1 and nothing is modified
 * if a gradient is NaN or infinite; the check reads grad once more. */
CA_API ca_status ca_adamw_step_cuda(float* param, const void* grad, ca_dtype grad_dtype,
                                    float* exp_avg, float* exp_avg_sq, int64_t n,
                                    const ca_hyper* hyper, int check_finite, int* skipped,
                                    struct CUstream_st* stream);

/* One tensor of a multi-tensor AdamW step. */
typedef struct ca_adamw_tensor {
  float* param;
  const void* grad;
  float* exp_avg;
  float* exp_avg_sq;
  int64_t n;
} ca_adamw_tensor;

/* AdamW on `count` tensors with the same hyperparameters, in one kernel launch per 64
 * tensors (as PyTorch's fused optimizers do). `tensors` is a host array, read before the
 * call returns. skip_if_set: NULL, or a device int; when it is nonzero at run time the
 * kernel modifies nothing (a found-non-finite flag from ca_all_finite_cuda). */
CA_API ca_status ca_adamw_multi_step_cuda(const ca_adamw_tensor* tensors, int64_t count,
                                          ca_dtype grad_dtype, const ca_hyper* hyper,
                                          const int* skip_if_set, struct CUstream_st* stream);

/* Sets the device int *non_finite to 1 if any of the n elements of x is NaN or infinite;
 * leaves it unchanged otherwise, so that one flag can gather several tensors (zero it
 * first). */
CA_API ca_status ca_all_finite_cuda(const void* x, ca_dtype dtype, int64_t n, int* non_finite,
                                    struct CUstream_st* stream);

#ifdef __cplusplus
}
#endif

#endif /* COUPLED_ADAM_H */
