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

#ifdef __cplusplus
}
#endif

#endif /* COUPLED_ADAM_H */
